"""Shared helpers for the course: data, models, training, plots, runtime and exercise checks.

Modules: ``runtime`` (fast mode, seeds, device report), ``data`` (JapaneseVowels, the synthetic
motif task, input checks), ``models`` (BiLSTM classifiers), ``training`` (metrics, multi-seed runs),
``plots`` (learning curves, confusion matrices, attention heatmaps), ``exercises`` (check_ helpers).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # keep TensorFlow's C++ start-up chatter out of the lessons
