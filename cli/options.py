"""Config fields as CLI flags, generated from their declarations (:func:`g2m.config.option`).

A command names the fields that get a flag of their own (:class:`Flags`); the flag's type, help,
choices and interval come from the field, so an option is declared once, in its config class.
:func:`config_flags` adds the flags to the command's signature and hands the command the values
the user gave as one :class:`Given`; every other field is still reachable through ``--set``.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Optional, TypeVar

import typer

from g2m.config import _fields_of, _types_of, help_of
from g2m.errors import G2MError

F = TypeVar("F", bound=Callable[..., Any])
Role = Literal["student", "teacher"]


@dataclass(frozen=True)
class Flags:
    """The fields of ``configs`` (a node config, then optionally its link twin) that a command
    gives flags of their own, for the ``role`` they configure. A flag is ``--<field>`` unless
    ``rename`` maps the field to another flag (``g2m run``'s ``--student-hidden``); ``label``
    starts each help text (which model the flag configures, where a command has two)."""

    role: Role
    configs: tuple[type, ...]
    names: tuple[str, ...]
    rename: Mapping[str, str] = field(default_factory=dict)
    label: str = ""

    def __post_init__(self) -> None:
        for name in self.names:
            if not any(name in _fields_of(cls) for cls in self.configs):
                known = ", ".join(c.__name__ for c in self.configs)
                raise ValueError(f"{name!r} is no field of {known}: a flag must name a config field")

    def flag(self, name: str) -> str:
        return self.rename.get(name, "--" + name.replace("_", "-"))

    def help(self, name: str) -> str:
        """The field's help, per task where the node and the link config say different things."""
        texts = {c: help_of(c, name) for c in self.configs if name in _fields_of(c)}
        unique = list(dict.fromkeys(texts.values()))
        if len(unique) == 1:
            return self.label + unique[0]
        return self.label + " ".join(f"{_task_of(c)}: {text}" for c, text in texts.items())

    def kind(self, name: str) -> tuple[type, Callable[[Any], Any]]:
        """The flag's click type and the conversion of its value to the field's."""
        cls = next(c for c in self.configs if name in _fields_of(c))
        hint = _types_of(cls)[name]
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        base = args[0] if typing.get_origin(hint) in (typing.Union, types.UnionType) and len(args) == 1 else hint
        if typing.get_origin(base) is tuple:  # e.g. fanouts: "15,10" -> (15, 10)
            return str, lambda text: tuple(int(part) for part in str(text).split(","))
        if typing.get_origin(base) is Literal:
            return str, _same
        if base in (int, float, bool, str):
            return base, _same
        raise TypeError(f"{cls.__name__}.{name}: no CLI type for {hint!r}")


def _same(value: Any) -> Any:
    return value


def _task_of(cls: type) -> str:
    return "Link" if cls.__name__.startswith("Link") else "Node"


@dataclass(frozen=True)
class Given:
    """The config values a command's own flags were given (unset flags left out), per role."""

    student: dict[str, Any] = field(default_factory=dict)
    teacher: dict[str, Any] = field(default_factory=dict)


#: the default of a command's ``given`` parameter (:func:`config_flags` always passes its own)
NO_FLAGS = Given()


def config_flags(*groups: Flags) -> Callable[[F], F]:
    """Add a flag per field of each :class:`Flags` to the decorated command (before its ``set_``
    parameter) and pass the values given as ``given=``, a :class:`Given`."""

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn, eval_str=True)
        kept = [p for p in signature.parameters.values() if p.name != "given"]
        generated: dict[str, tuple[Role, str, Callable[[Any], Any]]] = {}
        new: list[inspect.Parameter] = []
        for group in groups:
            for name in group.names:
                kind, convert = group.kind(name)
                decls = [group.flag(name)]
                if kind is bool:
                    decls = [f"{decls[0]}/--no-{decls[0][2:]}"]
                option = typer.Option(*decls, help=group.help(name))
                pname = f"{group.role}_{name}"
                generated[pname] = (group.role, name, convert)
                new.append(
                    inspect.Parameter(
                        pname,
                        inspect.Parameter.POSITIONAL_OR_KEYWORD,
                        default=None,
                        annotation=Annotated[Optional[kind], option],  # type: ignore[valid-type]
                    )
                )
        at = next((i for i, p in enumerate(kept) if p.name == "set_"), len(kept))
        params = [*kept[:at], *new, *kept[at:]]

        @functools.wraps(fn)
        def command(*args: Any, **kwargs: Any) -> Any:
            given = Given()
            for pname, (role, name, convert) in generated.items():
                value = kwargs.pop(pname, None)
                if value is not None:
                    try:
                        getattr(given, role)[name] = convert(value)
                    except ValueError as err:
                        raise G2MError(f"{name}: cannot read {value!r} ({err})") from None
            return fn(*args, given=given, **kwargs)

        command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != "given"}
        return command  # type: ignore[return-value]

    return decorate
