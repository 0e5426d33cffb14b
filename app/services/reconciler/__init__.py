"""Reconcile one deployment: observe, plan, act, record — until converged or waiting.

Runs in a worker under the deployment's lease. No transaction is held across a Docker
call: each pass loads what it needs, talks to the engines, then records the outcome in
a fresh short transaction. Every step is safe to repeat after a crash at any point.
"""

from app.services.reconciler.loop import Reconciler

__all__ = ["Reconciler"]
