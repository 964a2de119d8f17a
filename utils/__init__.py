"""Shared helpers for the course; ``utils/README.md`` shows how they fit together.

Modules: ``runtime`` (backend, fast mode, seeds, device report), ``data`` (JapaneseVowels, the synthetic
motif task, input checks), ``builder`` (the one model builder), ``registry`` (the course's named models and
recipes), ``probe`` (attention weights), ``models`` (inspection and the padding check), ``pooling``,
``self_attention`` and ``blocks`` (the layers), ``training`` (metrics, multi-seed runs), ``plots``,
``explain`` (saliency), ``diagnose`` (the clinic's checks), ``answers`` (the clinic's three answers and
``attention_fit``), ``saved_models`` (``load_model`` on either backend) and ``exercises`` (the lessons' self-checks).
"""
