"""How ``data/`` is made from pinned registry packages (used by ``scripts/fetch_data.py``)."""
from .recipes import RECIPES, build
from .writers import describe

__all__ = ["RECIPES", "build", "describe"]
