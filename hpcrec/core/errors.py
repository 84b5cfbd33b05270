"""Every error class of hpcrec: errors a user is meant to read (the CLI prints them as one
line and exits non-zero), and the unwinding of a terminated process."""


class HpcrecError(Exception):
    """Base of every error hpcrec raises on purpose (bad input, bad arguments, limits)."""


class InputError(HpcrecError, ValueError):
    """An input file or object is missing, malformed or inconsistent."""


class MemoryBudgetError(HpcrecError, MemoryError):
    """A structure would exceed the configured share of this node's memory."""


class DeviceError(HpcrecError, RuntimeError):
    """The requested compute device (GPU) is not usable here."""


class UnknownDevice(InputError, DeviceError):
    """A device name other than ``cpu``, ``gpu`` or ``auto``."""


class OutputError(HpcrecError, OSError):
    """An output cannot be written (disk full, file-size limit, read-only, I/O error, wrong kind of path)."""


class TrainingDiverged(HpcrecError, ArithmeticError):
    """Training produced non-finite values; no model is written."""


class RankFailed(HpcrecError):
    """Raised on every rank when some rank failed inside ``Comm.collective_errors``."""


class TrainingInterrupted(HpcrecError):
    """Training stopped early on request (a stop signal or time limit); a checkpoint holds the progress."""


class Terminated(BaseException):
    """SIGTERM arrived outside a phase that handles it: unwind (removing temporary files) and exit 143."""
