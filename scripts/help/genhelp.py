#!/usr/bin/env python3
"""Generates en-US/VmDebug.dll-Help.xml (MAML) from the cmd_*.py command descriptions beside it:
   python3 scripts/help/genhelp.py en-US/VmDebug.dll-Help.xml"""
import glob, html, os, sys
out = sys.argv[1]
cmds = []
for f in sorted(glob.glob(os.path.join(os.path.dirname(__file__), "cmd_*.py"))):
    ns = {}
    exec(open(f).read(), ns)
    cmds.append(ns["CMD"])
cmds.sort(key=lambda c: c["name"])
e = lambda s: html.escape(s, quote=False)
def paras(text, indent):
    return "".join(f"{indent}<maml:para>{e(p.strip())}</maml:para>\n" for p in text.strip().split("\n\n"))
x = ['<?xml version="1.0" encoding="utf-8"?>',
     '<helpItems schema="maml" xmlns="http://msh">']
for c in cmds:
    verb, noun = c["name"].split("-", 1)
    x.append('  <command:command xmlns:maml="http://schemas.microsoft.com/maml/2004/10" xmlns:command="http://schemas.microsoft.com/maml/dev/command/2004/10" xmlns:dev="http://schemas.microsoft.com/maml/dev/2004/10">')
    x.append('    <command:details>')
    x.append(f'      <command:name>{c["name"]}</command:name>')
    x.append(f'      <command:verb>{verb}</command:verb>')
    x.append(f'      <command:noun>{noun}</command:noun>')
    x.append('      <maml:description>\n' + paras(c["synopsis"], "        ") + '      </maml:description>')
    x.append('    </command:details>')
    x.append('    <maml:description>\n' + paras(c["description"], "      ") + '    </maml:description>')
    params = {p["name"]: p for p in c["parameters"]}
    x.append('    <command:syntax>')
    for setname, names in c["sets"].items():
        x.append('      <command:syntaxItem>')
        x.append(f'        <maml:name>{c["name"]}</maml:name>')
        for n in names:
            p = params[n]
            req = "true" if n in c.get("required", {}).get(setname, []) else "false"
            x.append(f'        <command:parameter required="{req}" globbing="false" pipelineInput="{p.get("pipeline","False")}" position="{p.get("position","named")}">')
            x.append(f'          <maml:name>{n}</maml:name>')
            if p["type"] != "SwitchParameter":
                x.append(f'          <command:parameterValue required="true">{p["type"]}</command:parameterValue>')
            x.append('        </command:parameter>')
        x.append('      </command:syntaxItem>')
    x.append('    </command:syntax>')
    x.append('    <command:parameters>')
    for p in c["parameters"]:
        x.append(f'      <command:parameter required="{str(p.get("required", False)).lower()}" globbing="false" pipelineInput="{p.get("pipeline","False")}" position="{p.get("position","named")}">')
        x.append(f'        <maml:name>{p["name"]}</maml:name>')
        x.append('        <maml:description>\n' + paras(p["description"], "          ") + '        </maml:description>')
        if p["type"] != "SwitchParameter":
            x.append(f'        <command:parameterValue required="true">{p["type"]}</command:parameterValue>')
        x.append(f'        <dev:type><maml:name>{p["type"]}</maml:name></dev:type>')
        if "default" in p:
            x.append(f'        <dev:defaultValue>{e(p["default"])}</dev:defaultValue>')
        x.append('      </command:parameter>')
    x.append('    </command:parameters>')
    x.append('    <command:inputTypes>')
    for t, d in c.get("inputs", [("None", "This cmdlet takes no pipeline input.")]):
        x.append(f'      <command:inputType><dev:type><maml:name>{t}</maml:name></dev:type><maml:description><maml:para>{e(d)}</maml:para></maml:description></command:inputType>')
    x.append('    </command:inputTypes>')
    x.append('    <command:returnValues>')
    for t, d in c["outputs"]:
        x.append(f'      <command:returnValue><dev:type><maml:name>{t}</maml:name></dev:type><maml:description><maml:para>{e(d)}</maml:para></maml:description></command:returnValue>')
    x.append('    </command:returnValues>')
    if c.get("notes"):
        x.append('    <maml:alertSet>\n      <maml:alert>\n' + paras(c["notes"], "        ") + '      </maml:alert>\n    </maml:alertSet>')
    x.append('    <command:examples>')
    for i, (title, code, remarks) in enumerate(c["examples"], 1):
        x.append('      <command:example>')
        x.append(f'        <maml:title>-------------------------- Example {i}: {e(title)} --------------------------</maml:title>')
        x.append(f'        <dev:code>{e(code)}</dev:code>')
        x.append('        <dev:remarks>\n' + paras(remarks, "          ") + '        </dev:remarks>')
        x.append('      </command:example>')
    x.append('    </command:examples>')
    x.append('    <command:relatedLinks>')
    for l in c.get("links", []):
        x.append(f'      <maml:navigationLink><maml:linkText>{e(l)}</maml:linkText></maml:navigationLink>')
    x.append('    </command:relatedLinks>')
    x.append('  </command:command>')
x.append('</helpItems>')
open(out, "w").write("\n".join(x) + "\n")
print(f"wrote {len(cmds)} commands to {out}")
