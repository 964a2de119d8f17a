"""Shared helpers for the course; ``utils/README.md`` shows how they fit together.

Building and training: ``builder`` (the one model builder), ``registry`` (the course's named models and recipes),
``training`` (metrics, multi-seed runs, also data-parallel), ``child_process`` (lesson 10c: functions run in a
fresh process with logical CPU devices), ``distributed`` (what those processes train), ``sequence_cost`` (lesson
10b: the time and memory of one training step against the sequence length, growth exponents), ``stats``
(intervals and paired verdicts), ``peers`` (MiniRocket, TF-IDF and majority baselines).
Layers: ``pooling``, ``self_attention`` and ``blocks``; ``keras_ops`` (the one masked softmax, compiled functions
cached per architecture, the one gradient function); ``keras_internals`` (the one guarded use of private Keras API).
Reading models: ``probe`` (attention weights), ``inspection`` (layers, masks, the padding check, cuDNN eligibility),
``explain`` (saliency and occlusion), ``saved_models`` (``load_model`` on either backend).
Data: ``data`` (JapaneseVowels, the motif task, your own sequences), ``text`` (lesson 08's sentences),
``labelling`` (lesson 09's per-step labels), ``streaming`` (lesson 10a: shards on disk, a one-shard reader, length
bucketing), ``validators`` (the shared input checks), ``checksums``.
The clinic: ``diagnose`` (a package: report, model checks, data checks, ceiling, command line) and ``answers``
(the three answers). NumPy teaching code: ``reference_attention`` (lesson 02). The rest: ``runtime`` (backend,
fast mode, seeds, device report, compilation cache), ``plots``, ``epochs`` (per-epoch scores for the appendix),
``course_map`` (the notebooks, their titles and the README's course map), ``check_setup`` (the learner's set-up
check) and ``exercises`` (the lessons' self-checks).
"""
