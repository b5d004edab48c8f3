"""Using what was trained: ``generate`` (sampling, apart from the command that prints it), ``serve``
(an OpenAI-style completions API and a page), ``completions`` (the API's request and response
types), ``batching`` (requests batched for the model), ``export`` (TorchScript, ONNX, a static page)
and ``webassets`` (the page in ``static/`` and onnxruntime-web). May import ``models``, ``data``,
``checkpoint`` and ``errors``; only ``cli`` imports it.
"""
