"""`relais flows check` catches each kind of broken guide, and passes on the shipped library."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from flows.check import CheckPaths, Finding, check_library
from flows.cli import app
from flows.library import load_library

INTENTS = {
    "entities": {"service": {"values": ["caf", "ameli"]}},
    "intents": {"password_reset": {}, "scam_check": {}, "greet": {}},
}


def _guide(guide_id: str = "caf_code", **changes: object) -> dict:
    guide: dict = {
        "id": guide_id,
        "title": "Code CAF oublie",
        "intents": ["password_reset"],
        "service": "caf",
        "theme": "aide_aux_demarches_administratives",
        "steps": [
            {"id": "site", "text": "Allez sur le site de la CAF.", "link": "https://www.caf.fr"},
            {"id": "oublie", "text": "Appuyez sur \"Mot de passe oublié\"."},
        ],
        "sources": ["https://www.caf.fr"],
    }
    guide.update(changes)
    return guide


class TinyLibrary:
    """A small valid library in a temporary folder, which each test breaks in one way."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.guides = root / "guides"
        self.guides.mkdir()
        self.messages = root / "messages"
        self.messages.mkdir()
        self.write_guide(_guide())
        self.write_guide(_guide(
            "arnaque", title="SMS louche", intents=["scam_check"], service=None, theme="securite_numerique",
            steps=[{"id": "un", "text": "Ne cliquez pas sur le lien."}], sources=["https://www.33700.fr"],
        ))
        self.write("menu.yml", [
            {"label": "Code oublie", "intent": "password_reset"}, {"label": "Arnaque", "guide": "arnaque"},
        ])
        self.write("coverage.yml", {
            "coverage": {"password_reset": ["caf"], "scam_check": [None]}, "no_guide": ["greet"],
        })
        self.write("intents.yml", INTENTS)
        self.write("messages/fr.yml", {"menu_header": "Choisissez un sujet :", "resume": "Reprendre \"{title}\" ?"})

    def write(self, name: str, data: object) -> Path:
        path = self.root / name
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return path

    def write_guide(self, guide: dict) -> Path:
        return self.write(f"guides/{guide['id']}.yml", guide)

    @property
    def paths(self) -> CheckPaths:
        return CheckPaths(
            guides_dir=self.guides, menu_file=self.root / "menu.yml", coverage_file=self.root / "coverage.yml",
            messages_dir=self.messages, intents_file=self.root / "intents.yml",
        )

    def errors(self) -> list[Finding]:
        return check_library(self.paths, base=self.root).errors

    def cli_args(self) -> list[str]:
        p = self.paths
        return ["check", "--guides", str(p.guides_dir), "--menu", str(p.menu_file), "--coverage",
                str(p.coverage_file), "--messages", str(p.messages_dir), "--intents", str(p.intents_file)]


@pytest.fixture
def tiny(tmp_path: Path) -> TinyLibrary:
    return TinyLibrary(tmp_path)


def _rules(findings: list[Finding]) -> set[tuple[str, str, str]]:
    return {(f.file, f.step, f.rule) for f in findings}


# -- the library we ship ---------------------------------------------------------------------------


def test_the_shipped_library_has_no_error_and_enough_guides():
    report = check_library()
    assert report.errors == [], "\n".join(map(str, report.errors))
    assert report.guides >= 24


def test_tiny_library_is_valid_to_start_with(tiny: TinyLibrary):
    assert tiny.errors() == []


# -- one rule each -------------------------------------------------------------------------------


def test_a_character_outside_gsm7_is_an_error_that_names_it(tiny: TinyLibrary):
    broken = _guide()
    broken["steps"][1]["text"] = "Ouvrez la fenêtre « Mon Compte »."
    tiny.write_guide(broken)
    errors = tiny.errors()
    assert _rules(errors) == {("guides/caf_code.yml", "oublie", "gsm7")}
    assert "'ê'" in errors[0].message and "'«'" in errors[0].message


def test_a_step_longer_than_one_sms_is_an_error_unless_it_says_why(tiny: TinyLibrary):
    broken = _guide()
    broken["steps"][1]["text"] = "Appuyez sur le bouton. " * 8
    tiny.write_guide(broken)
    assert _rules(tiny.errors()) == {("guides/caf_code.yml", "oublie", "length")}

    broken["steps"][1]["long_reason"] = "Two warnings that must stay together."
    tiny.write_guide(broken)
    assert tiny.errors() == []


def test_question_choices_count_in_the_length(tiny: TinyLibrary):
    broken = _guide()
    broken["steps"][0]["question"] = {
        "text": "Quel est votre cas ? Choisissez le numero qui correspond le mieux a votre situation.",
        "choices": [{"label": "Je n'ai jamais eu de compte sur ce site", "next": "oublie"},
                    {"label": "J'ai un compte mais je ne peux plus y entrer", "next": "handoff"}],
    }
    tiny.write_guide(broken)
    assert ("guides/caf_code.yml", "site", "length") in _rules(tiny.errors())


def test_a_choice_to_a_missing_step_or_guide_is_a_dead_branch(tiny: TinyLibrary):
    broken = _guide()
    broken["steps"][0]["question"] = {
        "text": "Vous avez un compte ?",
        "choices": [{"label": "Oui", "next": "oublie"}, {"label": "Non", "next": "creer"},
                    {"label": "Autre", "next": "guide:nulle_part"}],
    }
    tiny.write_guide(broken)
    errors = tiny.errors()
    assert _rules(errors) == {("guides/caf_code.yml", "site", "dead-target")}
    assert any("'creer'" in e.message for e in errors) and any("nulle_part" in e.message for e in errors)


def test_a_step_no_path_leads_to_is_unreachable(tiny: TinyLibrary):
    broken = _guide()
    broken["steps"][0]["next"] = "end"
    tiny.write_guide(broken)
    assert _rules(tiny.errors()) == {("guides/caf_code.yml", "oublie", "unreachable")}


def test_links_only_to_official_domains_and_their_subdomains(tiny: TinyLibrary):
    broken = _guide()
    broken["steps"][0]["link"] = "https://caf-aide-en-ligne.fr/compte"
    broken["sources"] = ["https://mon.caf.fr/aide", "https://fauxcaf.fr"]
    tiny.write_guide(broken)
    errors = tiny.errors()
    assert _rules(errors) == {("guides/caf_code.yml", "site", "link"), ("guides/caf_code.yml", "sources", "link")}
    assert not any("mon.caf.fr" in e.message for e in errors)
    assert any("fauxcaf.fr" in e.message for e in errors)


def test_an_intent_listed_in_coverage_without_its_guide_is_an_error(tiny: TinyLibrary):
    tiny.write("coverage.yml", {"coverage": {"password_reset": ["caf", "ameli"], "scam_check": [None]},
                                "no_guide": ["greet"]})
    errors = tiny.errors()
    assert _rules(errors) == {("coverage.yml", "password_reset", "coverage")}
    assert "ameli" in errors[0].message


def test_an_intent_of_the_contract_missing_from_coverage_is_an_error(tiny: TinyLibrary):
    tiny.write("coverage.yml", {"coverage": {"password_reset": ["caf"]}, "no_guide": ["greet"]})
    assert _rules(tiny.errors()) == {("coverage.yml", "scam_check", "coverage")}


def test_a_guide_that_breaks_the_schema_is_named_with_the_field(tiny: TinyLibrary):
    broken = _guide()
    del broken["title"]
    tiny.write_guide(broken)
    errors = tiny.errors()
    assert ("guides/caf_code.yml", "-", "schema") in _rules(errors)
    assert "title" in errors[0].message


def test_unknown_intent_and_theme_are_errors(tiny: TinyLibrary):
    tiny.write_guide(_guide(intents=["password_reset", "mot_de_passe"], theme="informatique"))
    assert {rule for _, _, rule in _rules(tiny.errors())} == {"intent", "theme"}


def test_two_guides_for_the_same_need_need_an_entry_guide(tiny: TinyLibrary):
    tiny.write_guide(_guide("caf_code_bis", title="Code CAF bloque"))
    assert ("guides/caf_code_bis.yml", "-", "ambiguous") in _rules(tiny.errors())

    tiny.write_guide(_guide("caf_code_bis", title="Code CAF bloque", entry=True))
    assert tiny.errors() == []
    library = load_library(tiny.guides, tiny.root / "menu.yml")
    assert library.for_intent("password_reset", "caf").id == "caf_code_bis"


def test_the_menu_must_fit_one_sms_and_lead_somewhere(tiny: TinyLibrary):
    tiny.write("menu.yml", [{"label": f"Sujet numero {n}", "guide": "arnaque"} for n in range(1, 10)]
               + [{"label": "Perdu", "guide": "n_existe_pas"}])
    rules = {rule for _, _, rule in _rules(tiny.errors())}
    assert {"menu", "length", "dead-target"} <= rules


def test_bot_texts_are_checked_with_their_placeholders_filled(tiny: TinyLibrary):
    long_title = "Declaration trimestrielle de ressources CAF pour le RSA"
    tiny.write_guide(_guide(title=long_title))
    tiny.write("messages/fr.yml", {
        "menu_header": "Choisissez :",
        "resume": "Vous etiez a l'etape {position} sur {total} de \"{title}\". Repondez SUITE pour continuer, "
                  "ou MENU pour choisir un autre sujet dans la liste.",
        "greet": "Bonjour ! ça va ? Très bien.",
    })
    assert _rules(tiny.errors()) == {("messages/fr.yml", "resume", "length"), ("messages/fr.yml", "greet", "gsm7")}


def test_plain_language_problems_are_warnings_not_errors(tiny: TinyLibrary):
    wordy = _guide()
    wordy["steps"][1]["text"] = (
        "Veuillez ensuite appuyer sur le bouton qui se trouve en bas de la page afin de pouvoir recevoir "
        "un nouveau mot de passe par e-mail."
    )
    tiny.write_guide(wordy)
    report = check_library(tiny.paths, base=tiny.root)
    assert report.errors == []
    messages = [w.message for w in report.warnings if w.rule == "plain-language"]
    assert any("veuillez" in m for m in messages)
    assert any("afin de" in m for m in messages)
    assert any("words" in m for m in messages)


# -- the command ---------------------------------------------------------------------------------


def test_cli_exits_0_on_a_clean_library_and_1_with_a_line_per_error(tiny: TinyLibrary, monkeypatch):
    monkeypatch.chdir(tiny.root)
    runner = CliRunner()
    clean = runner.invoke(app, tiny.cli_args())
    assert clean.exit_code == 0, clean.output
    assert "0 error(s)" in clean.output

    broken = _guide()
    broken["steps"][1]["text"] = "Ouvrez l'écran « Mon Compte »."
    tiny.write_guide(broken)
    failed = runner.invoke(app, tiny.cli_args())
    assert failed.exit_code == 1
    assert "ERROR guides/caf_code.yml:oublie: gsm7: " in failed.output
    assert failed.output.strip().splitlines()[-1].endswith("1 error(s), 0 warning(s)")


def test_cli_exit_code_ignores_warnings(tiny: TinyLibrary, monkeypatch):
    monkeypatch.chdir(tiny.root)
    wordy = _guide()
    wordy["steps"][1]["text"] = "Veuillez appuyer sur le bouton."
    tiny.write_guide(wordy)
    result = CliRunner().invoke(app, tiny.cli_args())
    assert result.exit_code == 0
    assert "WARNING guides/caf_code.yml:oublie: plain-language:" in result.output
    quiet = CliRunner().invoke(app, [*tiny.cli_args(), "--quiet"])
    assert "WARNING" not in quiet.output


def test_python_dash_m_flows_check_passes_on_the_shipped_library():
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-m", "flows.check", "--quiet"], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 error(s)" in result.stdout.strip().splitlines()[-1]


def test_the_which_site_question_must_fit_one_sms(tiny: TinyLibrary):
    tiny.write("messages/fr.yml", {
        "menu_header": "Choisissez :",
        "ask_service": "C'est pour quel site ? " * 6 + "Repondez avec le numero :",
        "services": {"caf": "CAF", "ameli": "Ameli"},
    })
    tiny.write_guide(_guide("ameli_code", title="Code ameli oublie", service="ameli"))
    assert ("coverage.yml", "password_reset", "length") in _rules(tiny.errors())
