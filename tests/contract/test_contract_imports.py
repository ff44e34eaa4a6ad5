"""The contract layer stands alone: importing it loads nothing of the world, the rankers, torch or LightGBM."""

import subprocess
import sys

CODE = """
import sys
import basketgym.contract.catalog, basketgym.contract.errors, basketgym.contract.files, basketgym.contract.logs
import basketgym.contract.protocol, basketgym.contract.rng, basketgym.contract.slots, basketgym.contract.threads
prefixes = ("basketgym.sim", "basketgym.agents", "basketgym.rankers", "basketgym.eval", "torch", "lightgbm",
            "sim", "agents", "rankers", "eval", "pandas", "scipy", "simpy", "pyarrow")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in prefixes or m.startswith(prefixes[:4]))
print(",".join(loaded))
print(len([m for m in sys.modules if m.startswith("basketgym.contract.")]))
"""


def test_the_contract_imports_nothing_of_the_world_torch_or_lightgbm():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "", f"the contract pulled in: {out[0]}"
    assert int(out[1]) == 8  # every contract module was imported


def test_the_world_and_the_rankers_stand_on_the_same_protocol_objects():
    from basketgym.contract import protocol
    from basketgym.rankers import base
    from basketgym.sim.session import steps

    assert steps.RankRequest is protocol.RankRequest and base.RankResponse is protocol.RankResponse
