"""Welcome (attract) screen: Buat Laporan, Cek Status, and the language switch."""
from __future__ import annotations

from kivy.app import App
from kivy.uix.screenmanager import Screen


class WelcomeScreen(Screen):
    def start_report(self):
        App.get_running_app().start_filing()

    def check_status(self):
        App.get_running_app().start_status()

    def set_language(self, lang: str):
        App.get_running_app().set_language(lang)
