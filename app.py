"""Balai's Chalice app: blueprints and event handlers only; the logic lives in chalicelib/."""

from chalice import Chalice

from chalicelib.api import auth, public, requests, villages
from chalicelib.observability import SERVICE

app = Chalice(app_name=SERVICE)
app.experimental_feature_flags.update(["BLUEPRINTS"])
app.register_blueprint(public.bp)
app.register_blueprint(auth.bp)
app.register_blueprint(requests.bp)
app.register_blueprint(villages.bp)
