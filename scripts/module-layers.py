#!/usr/bin/env python3
"""Checks the layering of the runner crate (conformance/src), as ARCHITECTURE.md states it:

1. the core never reaches up to a command: no module outside `commands/` names
   `crate::commands` (nor the command line, `crate::cli`);
2. the top-level modules of the crate form no cycle: the graph "module A names crate::B" is
   computed over every `crate::…` and `super::…` path of conformance/src, and a cycle is
   reported with its path (A -> B -> … -> A);
3. the command modules form no cycle either, and none imports the command line back
   (`commands/mod.rs` declares and dispatches to every command: a command that names an item
   of it, `super::Cli` or `crate::commands::exit`, closes a circle).

    scripts/module-layers.py [SRC_DIR]      (default: conformance/src)

Exit 0: the layers hold; 1: a violation (listed); 2: usage. Run by .ci/run.

What counts as an import: any `crate::name`, `super::name` or grouped `crate::{a, b}` in
code (comments and doc comments are skipped, since intra-doc links do not make a
dependency). `super::` is resolved from the file's place in the tree and the inline modules
(`mod tests { … }`) around it. A file `foo/bar.rs` and `foo.rs`/`foo/mod.rs` all belong to
the top-level module `foo`.
"""
import bisect
import os
import re
import sys

# The layer above the core: only it may name these modules.
COMMAND_LAYER = {"commands", "cli"}
# Entry points, outside the graph: main.rs (the binary) and lib.rs (declarations and the
# public re-exports).
ROOT_FILES = {"lib.rs", "main.rs"}

PATH = re.compile(r"\b(crate|super)::((?:super::)*)(\w*)(?=\{|\b)")


INLINE_MOD = re.compile(r"^(\s*)(?:pub(?:\([\w:]+\))? )?mod \w+ \{")


def inline_depths(lines):
    """For each line, how many inline modules (`mod tests { … }`) it sits in: a `super::`
    there is one level further from the file's own module per inline module. Relies on the
    closing brace of an inline module being alone at the indentation of its `mod` line, as
    rustfmt writes it."""
    depths, open_at = [], []
    for line in lines:
        if open_at and line.rstrip("\n") == open_at[-1] + "}":
            depths.append(len(open_at))
            open_at.pop()
            continue
        depths.append(len(open_at))
        m = INLINE_MOD.match(line)
        if m:
            open_at.append(m.group(1))
    return depths


def module_of(rel):
    """`engine/step/http.rs` -> ["engine", "step", "http"]; `engine/mod.rs` -> ["engine"]."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "mod":
        parts.pop()
    return parts


def strip_comment(line):
    """The code part of a line (a `//` inside a string literal is rare enough here)."""
    code = line.split("//", 1)[0]
    # String literals may mention paths (messages): drop them.
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', code)


def group_names(text, start):
    """The first name of each item of the `{…}` group that opens at `text[start]`
    (`crate::{a, b::c, d::{e, f}}` -> a, b, d), and where the group ends."""
    names, depth, item, i = [], 0, "", start
    while i < len(text):
        c = text[i]
        if c == "{":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c == "}":
            depth -= 1
            if depth == 0:
                names.append(item)
                break
        elif c == "," and depth == 1:
            names.append(item)
            item = ""
            i += 1
            continue
        if depth == 1:
            item += c
        i += 1
    firsts = [re.match(r"\s*(\w*)", n).group(1) for n in names]
    return [n for n in firsts if n], i


def imports(src):
    """{top-level module: {top-level module it names: first place it does}}."""
    graph = {}
    for directory, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith(".rs"):
                continue
            path = os.path.join(directory, name)
            rel = os.path.relpath(path, src)
            if rel in ROOT_FILES:
                continue
            module = module_of(rel)
            top = module[0]
            edges = graph.setdefault(top, {})
            with open(path, encoding="utf-8") as f:
                raw_lines = f.readlines()
            depths = inline_depths(raw_lines)
            lines = [strip_comment(line) for line in raw_lines]
            # Line starts, to name the line of a match in the joined text.
            starts, offset = [], 0
            for line in lines:
                starts.append(offset)
                offset += len(line) if line.endswith("\n") else len(line) + 1
            text = "".join(line if line.endswith("\n") else line + "\n" for line in lines)

            def line_of(pos):
                return bisect.bisect_right(starts, pos)

            for m in PATH.finditer(text):
                kind, supers, first = m.group(1), m.group(2), m.group(3)
                number = line_of(m.start())
                if kind == "super":
                    # One level up per `super`, from the file's module and its inline modules.
                    depth = len(module) + depths[number - 1]
                    if depth - 1 - supers.count("super::") > 0:
                        continue  # still inside the same top-level module
                targets = [first]
                if first == "" or text[m.end(3)] == "{":
                    targets, _ = group_names(text, m.end(3))
                for target in targets:
                    if target in ("self", "super", "crate") or target == top:
                        continue
                    edges.setdefault(target, f"{rel}:{number}")
    return graph


def find_cycle(graph):
    """One cycle of the graph as a list of modules (first == last), or None."""
    state = {}
    stack = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, {})):
            if nxt not in graph:
                continue  # an external crate or a name that is not a module of this crate
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


COMMANDS = "commands"
DISPATCH = "(commands/mod.rs)"
SUB = re.compile(r"\b(crate::commands|super)::((?:super::)*)(\w*)(?=\{|\b)")


def command_graph(src):
    """The graph between the modules of `commands/` (each child a node, `mod.rs` the node
    DISPATCH, which declares every child), with where each edge is first seen."""
    root = os.path.join(src, COMMANDS)
    graph = {DISPATCH: {}}
    children = set()
    for entry in os.listdir(root):
        name = entry[:-3] if entry.endswith(".rs") else entry
        if name != "mod":
            children.add(name)
            graph.setdefault(name, {})
            graph[DISPATCH][name] = "commands/mod.rs (mod declaration)"
    for directory, _, files in os.walk(root):
        for file in sorted(files):
            if not file.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(directory, file), src)
            module = module_of(rel)
            node = module[1] if len(module) > 1 else DISPATCH
            with open(os.path.join(directory, file), encoding="utf-8") as f:
                raw_lines = f.readlines()
            depths = inline_depths(raw_lines)
            for number, line in enumerate(raw_lines, 1):
                code = strip_comment(line)
                for m in SUB.finditer(code):
                    head, supers, first = m.group(1), m.group(2), m.group(3)
                    if head == "super":
                        # `super::` of commands/<x>.rs (one more per nested module) is
                        # commands itself.
                        depth = len(module) + depths[number - 1]
                        if depth - 1 - supers.count("super::") != 1:
                            continue
                    names = [first]
                    if first == "" or code[m.end(3):m.end(3) + 1] == "{":
                        names, _ = group_names(code, m.end(3))
                    for name in names:
                        target = name if name in children else DISPATCH
                        if target != node:
                            graph[node].setdefault(target, f"{rel}:{number}")
    return graph


def main(argv):
    if len(argv) > 2:
        print(__doc__, file=sys.stderr)
        return 2
    src = argv[1] if len(argv) == 2 else "conformance/src"
    if not os.path.isdir(src):
        print(f"module-layers: no directory {src}", file=sys.stderr)
        return 2
    graph = imports(src)
    problems = []
    for module, edges in sorted(graph.items()):
        if module in COMMAND_LAYER:
            continue
        for target, where in sorted(edges.items()):
            if target in COMMAND_LAYER:
                problems.append(
                    f"{where}: core module `{module}` imports `crate::{target}` "
                    "(only the command layer may; move the shared code down into the core)"
                )
    cycle = find_cycle(graph)
    if cycle:
        steps = [
            f"{a} -> {b} ({graph[a][b]})" for a, b in zip(cycle, cycle[1:])
        ]
        problems.append("import cycle between top-level modules: " + "; ".join(steps))
    if os.path.isdir(os.path.join(src, COMMANDS)):
        commands = command_graph(src)
        cycle = find_cycle(commands)
        if cycle:
            steps = [f"{a} -> {b} ({commands[a][b]})" for a, b in zip(cycle, cycle[1:])]
            problems.append("import cycle between command modules: " + "; ".join(steps))
    for problem in problems:
        print(f"module-layers: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(
        f"module-layers: {len(graph)} top-level modules of {src}, no upward import, "
        "no cycle between them or between the command modules"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
