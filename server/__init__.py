"""Zhanye (展业) — the field workbench for bank relationship managers. `create_app` builds the
Flask app; `realtime` and `tasks` attach themselves to it from the process entry points."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from server.config import load_settings


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = load_settings(**(config or {}))
    app = Flask(__name__, static_folder=None)
    app.config["SETTINGS"] = settings
    app.config["SECRET_KEY"] = settings.SECRET_KEY
    app.config["MAX_CONTENT_LENGTH"] = settings.MAX_CONTENT_LENGTH
    app.config["TESTING"] = settings.TESTING
    if settings.TRUSTED_PROXIES:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from server import api, db, edge, errors, headers, redis_client, security
    from server import models as _models  # noqa: F401  (registers every table)

    db.init_app(app)
    redis_client.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    edge.init_app(app)  # before any route: `<int:...>` is bounded
    headers.init_app(app)

    from server.assistant.routes import bp as assistant_bp
    from server.audit.routes import bp as audit_bp
    from server.auth.routes import bp as auth_bp
    from server.conduct.routes import bp as conduct_bp
    from server.customers.routes import bp as customers_bp
    from server.health import bp as health_bp
    from server.health import test_bp
    from server.helpers.routes import bp as helpers_bp
    from server.inbox.routes import bp as inbox_bp
    from server.intel.routes import bp as intel_bp
    from server.knowledge.routes import bp as knowledge_bp
    from server.learning.routes import bp as learning_bp
    from server.mirror.routes import bp as mirror_bp
    from server.mirror.routes import public_bp as mirror_public_bp
    from server.notebook.routes import bp as notebook_bp
    from server.opportunities.routes import bp as opportunities_bp
    from server.org.routes import bp as org_bp
    from server.performance.routes import bp as performance_bp
    from server.personas.routes import bp as personas_bp
    from server.products.routes import bp as products_bp
    from server.prospects.routes import bp as prospects_bp
    from server.push.routes import bp as push_bp
    from server.resources.routes import bp as resources_bp
    from server.warrooms.routes import bp as warrooms_bp
    from server.workbench.routes import bp as workbench_bp

    for blueprint in (
        health_bp,
        auth_bp,
        customers_bp,
        org_bp,
        audit_bp,
        notebook_bp,
        inbox_bp,
        push_bp,
        opportunities_bp,
        intel_bp,
        workbench_bp,
        knowledge_bp,
        mirror_bp,
        mirror_public_bp,
        performance_bp,
        products_bp,
        resources_bp,
        warrooms_bp,
        conduct_bp,
        prospects_bp,
        assistant_bp,
        personas_bp,
        learning_bp,
        helpers_bp,
    ):
        app.register_blueprint(blueprint)
    if settings.ENABLE_TEST_ENDPOINTS:
        app.register_blueprint(test_bp)
    if settings.DEMO_MODE:
        from server.demo.feeds import bp as intel_demo_bp

        app.register_blueprint(intel_demo_bp)  # /demo-feeds/*: the demo bank's local intel feeds

    api.init_app(app)  # after the API blueprints, so the OpenAPI document sees them
    app.cli.add_command(api.openapi_command(create_app))

    from server.web import bp as web_bp

    app.register_blueprint(web_bp)  # last: its catch-all serves the PWA

    from server.demo.cli import demo_cli

    app.cli.add_command(demo_cli)
    return app
