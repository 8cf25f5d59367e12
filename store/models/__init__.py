"""Every table of the project. Importing this package registers them all on `Base.metadata`."""

from store.db import Base
from store.models.shared import SharedEntry

__all__ = ["Base", "SharedEntry"]
