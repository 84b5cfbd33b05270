"""The SLURM jobscripts, JUBE benchmark and site files, installed with hpcrec as package data
(``hpcrec.jobscripts``) so that ``hpcrec bench study --slurm`` finds its templates in any
installation; see README.md in this folder."""
