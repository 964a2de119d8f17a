"""``python -m utils.diagnose``: the backend is chosen in ``utils/diagnose/__init__.py``, before Keras loads."""
from .cli import main

raise SystemExit(main())
