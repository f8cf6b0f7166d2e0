"""Batch evaluation: a dataset of questions with reference answers, run against a model or the
RAG pipeline, scored (exact match, token F1, containment, embedding similarity, optional
LLM-as-judge) into a JSON report and a readable summary.

This room knows nothing of the pipeline: the runner takes the target and the judge as async
callables; `jobs/eval_task.py` builds them over the Gateway (the caller's key, the pipeline)
for the `eval.run` job and for `switchboard eval`.
"""
