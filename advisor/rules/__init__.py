"""The advisor's rules, one small named unit each (see base.py), grouped by family. Importing
this package registers them all in `RULES`; the import order below is the order reasons are
listed in (prompting, knowledge, behaviour, data, operations, fine-tuning method)."""
# isort: off
from advisor.rules import prompting  # noqa: F401
from advisor.rules import knowledge  # noqa: F401
from advisor.rules import behaviour  # noqa: F401
from advisor.rules import data  # noqa: F401
from advisor.rules import operations  # noqa: F401
from advisor.rules import methods  # noqa: F401
# isort: on
from advisor.rules.base import APPROACHES, FINETUNE, RULES, Outcome, Rule

__all__ = ["APPROACHES", "FINETUNE", "RULES", "Outcome", "Rule"]
