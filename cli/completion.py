"""``ads-connect completion bash``: a bash completion script read off the argparse parser itself,
so every group, command and option added to ``cli/main.py`` completes without another list.

    source <(ads-connect completion bash)   # zsh: autoload -U bashcompinit && bashcompinit first
"""

from __future__ import annotations

import argparse
import re
import shlex

_FUNCTION = "_ads_connect_complete"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _words(parser: argparse.ArgumentParser) -> list[str]:
    """What may follow at this level: option strings, sub-commands, choices of positionals."""
    words: list[str] = []
    for action in parser._actions:
        if action.option_strings:
            words += [s for s in action.option_strings if s.startswith("--")] or action.option_strings
        elif isinstance(action, argparse._SubParsersAction):
            words += list(action.choices)
        elif action.choices is not None:
            words += [str(choice) for choice in action.choices]
    return words


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    """Options that take a value (the word after them is not a group or command)."""
    found = {
        option
        for action in parser._actions
        if action.option_strings and action.nargs != 0
        for option in action.option_strings
    }
    for child in _subcommands(parser).values():
        found |= _value_options(child)
    return found


def bash_script(parser: argparse.ArgumentParser) -> str:
    prog = parser.prog
    cases = [f"        /) words={shlex.quote(' '.join(_words(parser)))} ;;"]
    for group, group_parser in _subcommands(parser).items():
        cases.append(f"        {group}/) words={shlex.quote(' '.join(_words(group_parser)))} ;;")
        for command, command_parser in _subcommands(group_parser).items():
            words = " ".join(_words(command_parser))
            cases.append(f"        {group}/{command}) words={shlex.quote(words)} ;;")
    value_options = " ".join(sorted(_value_options(parser)))
    name = re.sub(r"\W", "_", prog)
    return "\n".join(
        [
            f"# bash completion for {prog} (generated: {prog} completion bash)",
            f"{_FUNCTION}_{name}() {{",
            '    local cur="${COMP_WORDS[COMP_CWORD]}" group="" command="" words="" i word',
            f"    local value_options={shlex.quote(' ' + value_options + ' ')}",
            "    for ((i = 1; i < COMP_CWORD; i++)); do",
            '        word="${COMP_WORDS[i]}"',
            '        if [[ "$value_options" == *" $word "* ]]; then ((i++)); continue; fi',
            '        [[ "$word" == -* ]] && continue',
            '        if [[ -z "$group" ]]; then group="$word"',
            '        elif [[ -z "$command" ]]; then command="$word"; fi',
            "    done",
            '    case "$group/$command" in',
            *cases,
            "    esac",
            '    COMPREPLY=($(compgen -W "$words" -- "$cur"))',
            "}",
            f"complete -F {_FUNCTION}_{name} {prog}",
            "",
        ]
    )
