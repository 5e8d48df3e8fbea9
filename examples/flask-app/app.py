"""A minimal Flask app: python-cnb's end-to-end example."""

import platform
import sys

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index() -> str:
    return "Hello from python-cnb!\n"


@app.get("/info")
def info() -> object:
    return jsonify(python=platform.python_version(), prefix=sys.prefix, executable=sys.executable)
