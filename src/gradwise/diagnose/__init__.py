"""Understand your network: bias/variance diagnosis, learning curves, single-number evaluation
and error analysis, the course's practical advice as tools (a floor above gradwise.train).

    from gradwise.diagnose import diagnose, diagnose_model
    print(diagnose(train_error=0.15, dev_error=0.16))          # high bias: a bigger network, ...
    d = diagnose_model(model, (X_train, y_train), (X_dev, y_dev), human_error=0.01)
    d.verdict, d.dominant, d.recommendations

    learning_curve(build, loss_fn, make_optimizer, train, dev, sizes=(0.1, 0.3, 1.0))
    plot_learning_curves([curve, history], "curves.png")       # error vs size, vs epochs
    choose(runs, optimizing="accuracy", satisficing={"runtime_ms": "<= 100"})
    plot_confusion_matrix(y_dev, out, "cm.png")
    most_confident_mistakes(out, y_dev, k=16, from_logits=True)    # out: logits

The training-health monitor (gradients, updates, saturated and dead units while training) is
gradwise.train.HealthMonitor, on with fit(..., monitor=True); it is re-exported here.
"""
from ..train.monitor import HealthMonitor, HealthWarning
from .bias_variance import RECIPE, Diagnosis, diagnose, diagnose_model, error_rate
from .choose import Choice, choose, f1_score, inference_ms, scores
from .curves import LearningCurve, epoch_curve, learning_curve, plot_learning_curves
from .errors import (
    Mistake,
    most_confident_mistakes,
    plot_confusion_matrix,
    plot_mistakes,
    top_confusions,
)

__all__ = [
    "diagnose", "diagnose_model", "Diagnosis", "error_rate", "RECIPE",
    "learning_curve", "epoch_curve", "plot_learning_curves", "LearningCurve",
    "f1_score", "scores", "inference_ms", "choose", "Choice",
    "most_confident_mistakes", "plot_mistakes", "plot_confusion_matrix", "top_confusions", "Mistake",
    "HealthMonitor", "HealthWarning",
]
