"""The FastAGI menu dialogue: bounded attempts, fallbacks, never a bare hang-up."""

from __future__ import annotations

from smart_ivr.dialogue import Collect, Dialogue, Route, RouteReason, max_digits_for
from smart_ivr.menu import Destinations, Menu, MenuEntry

KNOWN = {"201", "202", "203", "100", "999", "0"}
MENU = Menu(
    number="+79161234567",
    new_client=False,
    entries=(
        MenuEntry("1", "anna", "Анна", "201", 3.0, "r"),
        MenuEntry("2", "boris", "Борис", "202", 1.0, "r"),
    ),
    fragments=("a", "b"),
    destinations=Destinations(default="100", emergency="999"),
)


def dialogue(
    menu: Menu = MENU, prompt: str | None = "/var/tb/p1", **kw: object
) -> Dialogue:
    options: dict[str, object] = {
        "attempts": 3,
        "timeout_ms": 3000,
        "max_digits": 3,
        "last_resort": "0",
        "resolves": lambda d: d in KNOWN,
    }
    options.update(kw)
    return Dialogue(menu, prompt, **options)  # type: ignore[arg-type]


def test_a_menu_digit_routes_to_that_employee() -> None:
    d = dialogue()
    first = d.start()
    assert first == Collect("/var/tb/p1", 3000, 3, 1)
    assert d.on_keys("2") == Route("202", RouteReason.CHOSEN)


def test_a_full_extension_that_exists_is_accepted() -> None:
    d = dialogue()
    d.start()
    assert d.on_keys("203") == Route("203", RouteReason.CHOSEN)


def test_silence_repeats_then_goes_to_the_default() -> None:
    d = dialogue()
    actions = [d.start(), d.on_keys(""), d.on_keys(""), d.on_keys("")]
    assert [a.attempt for a in actions[:3] if isinstance(a, Collect)] == [1, 2, 3]
    assert actions[3] == Route("100", RouteReason.NO_CHOICE)


def test_invalid_keys_use_up_attempts_too() -> None:
    d = dialogue()
    d.start()
    assert isinstance(d.on_keys("7"), Collect)
    assert isinstance(d.on_keys("555"), Collect)
    assert d.on_keys("9") == Route("100", RouteReason.NO_CHOICE)


def test_no_prompt_means_emergency_at_once() -> None:
    assert dialogue(prompt=None).start() == Route("999", RouteReason.EMERGENCY)


def test_an_unresolvable_destination_goes_to_the_last_resort() -> None:
    broken = Menu(
        MENU.number,
        False,
        MENU.entries,
        MENU.fragments,
        Destinations(default="404", emergency="405"),
    )
    d = dialogue(menu=broken)
    d.start()
    d.on_keys("")
    d.on_keys("")
    assert d.on_keys("") == Route("0", RouteReason.LAST_RESORT)
    assert dialogue(menu=broken, prompt=None).start() == Route(
        "0", RouteReason.LAST_RESORT
    )


def test_max_digits_covers_the_longest_offered_extension() -> None:
    long_menu = Menu(
        MENU.number,
        False,
        (MenuEntry("1", "x", "X", "20145", 1, "r"),),
        ("a",),
        MENU.destinations,
    )
    assert max_digits_for(long_menu) == 5
    assert max_digits_for(MENU) == 3
