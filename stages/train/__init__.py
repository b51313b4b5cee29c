"""The train stage: a domain in, a trained model and its card out; and sweeps and
evaluations of many episodes, on Ray.

Modules, lowest first; each imports only modules listed before it (config → learner →
population/sweep → command line: ``tests/test_layout.py`` keeps it so):

* :mod:`~stages.train.model_card`: the model card, the file contract between train and
  record, and where models live on disk;
* :mod:`~stages.train.model_format`: a model or checkpoint zip read without running any
  of its code (the weights only, ``weights_only=True``), and old cards upgraded;
* :mod:`~stages.train.cluster`: Ray for a command: a local Ray kept inside the output
  folder, or an existing cluster;
* :mod:`~stages.train.model_policy`: a trained model as a policy, after the card's checks
  (what ``simreel record`` plays);
* :mod:`~stages.train.config`: :class:`~stages.train.config.TrainConfig` and what a run
  returns;
* :mod:`~stages.train.evaluation`: many held-out episodes, split across Ray, the same
  figures as one process;
* :mod:`~stages.train.learner`: one MaskablePPO learner, its periodic evaluation and
  checkpoints;
* :mod:`~stages.train.ray_learner`: a learner as a Ray task, and the coordinator actor;
* :mod:`~stages.train.population`: learners side by side, the best one kept;
* :mod:`~stages.train.run`: :func:`~stages.train.run.train`, the stage function;
* :mod:`~stages.train.curves`: learning curves as a PNG;
* :mod:`~stages.train.sweep`: many runs over seeds and settings, one results table;
* :mod:`~stages.train.cli`: ``simreel train`` and ``simreel sweep``;
* :mod:`~stages.train.bench`: ``make bench`` figures of simulation, training, Ray and
  evaluation.

This file stays empty of imports, so that ``simreel record`` reading a model card loads
no training code.
"""
