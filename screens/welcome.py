"""Welcome (attract) screen: Buat Laporan, Cek Status, and the language switch."""
from __future__ import annotations

from kivy.app import App
from kivy.uix.screenmanager import Screen

from screens.common import tr


class WelcomeScreen(Screen):
    def start_report(self):
        App.get_running_app().start_filing()

    def check_status(self):
        App.get_running_app().start_status()

    def set_language(self, lang: str):
        App.get_running_app().set_language(lang)

    @staticmethod
    def sync_line(lang: str, state: str, waiting: int) -> str:
        """Like a POS's sync icon: online or offline, and how many reports wait."""
        if state == "online":
            head = tr(lang, "Online")
        elif state == "offline":
            head = tr(lang, "Offline")
        else:
            head = tr(lang, "Saved on this kiosk")
        return f"{head} · " + tr(lang, "{n} waiting to be sent", n=waiting)
