"""A data app: a scikit-learn model trained on a pandas frame at start, served by Flask."""

import numpy as np
import pandas as pd
from flask import Flask, jsonify, request
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(42)
frame = pd.DataFrame(rng.normal(size=(500, 3)), columns=["a", "b", "c"])
frame["label"] = (frame["a"] + 0.5 * frame["b"] - frame["c"] > 0).astype(int)
model = make_pipeline(StandardScaler(), LogisticRegression())
model.fit(frame[["a", "b", "c"]], frame["label"])

app = Flask(__name__)


@app.get("/")
def index() -> object:
    return jsonify(
        rows=len(frame),
        accuracy=round(float(model.score(frame[["a", "b", "c"]], frame["label"])), 3),
    )


@app.get("/predict")
def predict() -> object:
    point = pd.DataFrame([[float(request.args.get(k, 0)) for k in "abc"]], columns=["a", "b", "c"])
    return jsonify(label=int(model.predict(point)[0]))
