"""What the mining path loads: pandas only for the DataFrame API, Numba not for the threshold."""
from __future__ import annotations

import subprocess
import sys


def _loaded_after(code: str) -> set[str]:
    """Top-level packages whose code ran (a lazily loaded stub without submodules is not)."""
    probe = code + "\nimport sys\nprint(sorted({m.split('.')[0] for m in sys.modules if '.' in m}))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(eval(out.stdout.strip().splitlines()[-1]))


def test_mining_itemsets_does_not_load_pandas():
    loaded = _loaded_after("from hpcrec.fim import mine_itemsets\n"
                           "r = mine_itemsets([[0, 1, 2], [0, 1], [1, 2]], 0.5, 'fpmax')\n"
                           "assert len(r) == 2, len(r)")
    assert "numba" in loaded and "pandas" not in loaded


def test_the_threshold_rule_loads_no_numba():
    loaded = _loaded_after("from hpcrec.fim.result import min_count\nassert min_count(0.5, 3) == 2")
    assert "numba" not in loaded and "pandas" not in loaded


def test_the_dataframe_api_still_loads_on_use():
    loaded = _loaded_after("import hpcrec.fim as F\nimport pandas as pd\n"
                           "df = pd.DataFrame({'a': [1, 1, 0], 'b': [1, 0, 1]}).astype(bool)\n"
                           "assert len(F.fpgrowth(df, 0.5)) == 2\n"
                           "assert 'fpclose' in dir(F)")
    assert "pandas" in loaded
