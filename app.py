"""Balai's Chalice app: blueprints and event handlers only; the logic lives in chalicelib/."""

from chalice import Chalice

from chalicelib.api import auth, letters, public, requests, villages
from chalicelib.observability import SERVICE

app = Chalice(app_name=SERVICE)
app.experimental_feature_flags.update(["BLUEPRINTS"])
# Letter PDFs served by the local file route are binary.
app.api.binary_types.append("application/pdf")
app.register_blueprint(public.bp)
app.register_blueprint(auth.bp)
app.register_blueprint(requests.bp)
app.register_blueprint(villages.bp)
app.register_blueprint(letters.bp)
