from __future__ import annotations

from typing import cast

from flask import Blueprint, Response, current_app
from spectree import Response as Answers

from server import db
from server.api import body, idempotent, ok, query, spec
from server.db import row_id
from server.errors import too_many_requests
from server.mirror import service
from server.mirror.schemas import (
    EvaluationCreate,
    EvaluationSaved,
    EvaluatorKind,
    PendingEvaluations,
    Portrait,
    PublicRating,
    RatingForm,
    RatingLink,
    RatingLinkCreate,
    RatingThanks,
)
from server.org.schemas import RmMonthQuery
from server.ratelimit import hit
from server.redis_client import get_redis
from server.schemas import problems
from server.security import client_ip, csrf_exempt, current_user, public
from server.timeutil import current_month

bp = Blueprint("mirror", __name__, url_prefix="/api/v1/mirror")
public_bp = Blueprint("mirror_public", __name__)

PUBLIC_RATE_PER_MINUTE = 30


@bp.get("")
@spec.validate(query=RmMonthQuery, resp=Answers(HTTP_200=Portrait, **problems(403, 404)), tags=["mirror"])
def portrait():
    """The self-portrait: challenge and combat power, drivers, radar, trend, team percentile."""
    q: RmMonthQuery = query()
    return ok(
        service.portrait(db.session(), viewer=current_user(), rm_id=q.rm_id, month=q.month), personal=True
    )


@bp.get("/pending")
@spec.validate(resp=Answers(HTTP_200=PendingEvaluations), tags=["mirror"])
def pending():
    return ok(
        {
            "month": current_month(),
            "items": service.pending_evaluations(db.session(), user=current_user()),
        }
    )


@bp.post("/evaluations")
@idempotent
@spec.validate(
    json=EvaluationCreate, resp=Answers(HTTP_201=EvaluationSaved, **problems(404, 409)), tags=["mirror"]
)
def evaluate():
    data: EvaluationCreate = body()
    evaluation = service.submit_evaluation(
        db.session(), user=current_user(), rm_id=data.rm_id, scores=data.scores, comment=data.comment
    )
    return ok(
        EvaluationSaved(
            id=row_id(evaluation),
            month=evaluation.month,
            evaluator_kind=cast(EvaluatorKind, evaluation.evaluator_kind),
            average=evaluation.average,
        ),
        201,
    )


@bp.post("/rating-links")
@idempotent
@spec.validate(
    json=RatingLinkCreate, resp=Answers(HTTP_201=RatingLink, **problems(403, 404)), tags=["mirror"]
)
def rating_link():
    """A single-use, expiring link (and QR code) for a customer to rate the RM without signing in."""
    data: RatingLinkCreate = body()
    link = service.create_rating_link(
        db.session(),
        user=current_user(),
        customer_id=data.customer_id,
        public_url=current_app.config["SETTINGS"].PUBLIC_URL,
        ip=client_ip(),
    )
    return ok(link, 201, personal=True)


def _throttle() -> None:
    allowed, retry_after = hit(
        get_redis(), f"rating:{client_ip()}", limit=PUBLIC_RATE_PER_MINUTE, window_seconds=60
    )
    if not allowed:
        raise too_many_requests("Please try again shortly.", retry_after=retry_after)


@public_bp.get("/api/v1/public/ratings/<token>")
@public
@spec.validate(resp=Answers(HTTP_200=RatingForm, **problems(404, 410, 429)), tags=["mirror"])
def public_form(token: str):
    _throttle()
    return ok(service.public_rating_form(db.session(), token=token), personal=True)


@public_bp.post("/api/v1/public/ratings/<token>")
@public
@csrf_exempt
@spec.validate(
    json=PublicRating, resp=Answers(HTTP_201=RatingThanks, **problems(404, 410, 429)), tags=["mirror"]
)
def public_submit(token: str):
    _throttle()
    data: PublicRating = body()
    service.submit_public_rating(db.session(), token=token, scores=data.scores, comment=data.comment)
    return ok(RatingThanks(thanks=True), 201, personal=True)


RATING_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><meta name="referrer" content="no-referrer">
<title>服务评价</title><style>
body{font-family:system-ui,sans-serif;margin:0;padding:16px;background:#f7f8fa;color:#323233}
h1{font-size:20px}.c{background:#fff;border-radius:8px;padding:12px;margin:12px 0}
.s button{font-size:22px;border:0;background:none;color:#c8c9cc;padding:2px 4px}.s button.on{color:#ff976a}
textarea{width:100%;box-sizing:border-box;min-height:64px}
#go{width:100%;padding:12px;border:0;border-radius:8px;background:#1989fa;color:#fff;font-size:16px}
</style></head><body><h1>服务评价</h1><div id="app">加载中…</div><script src="/r-assets/rating.js"></script></body></html>"""

RATING_SCRIPT = """const token = location.pathname.split('/').pop();
const api = '/api/v1/public/ratings/' + encodeURIComponent(token);
const app = document.getElementById('app');
const scores = {};
function say(text) { app.textContent = text; }
fetch(api, {credentials: 'omit'}).then(r => r.json().then(b => [r, b])).then(([r, b]) => {
  if (!r.ok) { say(r.status === 410 ? '此评价链接已使用或已过期。' : '评价链接无效。'); return; }
  app.innerHTML = '';
  const h = document.createElement('p');
  h.textContent = '请为客户经理 ' + b.rm_display_name + ' 的服务打分(1-5 星)';
  app.appendChild(h);
  for (const c of b.criteria) {
    const box = document.createElement('div'); box.className = 'c';
    const label = document.createElement('div'); label.textContent = c.label; box.appendChild(label);
    const stars = document.createElement('div'); stars.className = 's';
    for (let n = 1; n <= 5; n++) {
      const s = document.createElement('button'); s.textContent = '★'; s.dataset.criterion = c.key;
      s.setAttribute('aria-label', c.label + ' ' + n);
      s.onclick = () => { scores[c.key] = n;
        [...stars.children].forEach((x, i) => x.classList.toggle('on', i < n)); };
      stars.appendChild(s);
    }
    box.appendChild(stars); app.appendChild(box);
  }
  const t = document.createElement('textarea'); t.placeholder = '想对客户经理说的话(选填)'; t.maxLength = 500;
  app.appendChild(t);
  const go = document.createElement('button'); go.id = 'go'; go.textContent = '提交评价';
  go.onclick = () => {
    if (Object.keys(scores).length < b.criteria.length) { alert('请为每一项打分'); return; }
    go.disabled = true;
    fetch(api, {method: 'POST', credentials: 'omit', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({scores, comment: t.value || null})})
      .then(r => say(r.ok ? '感谢您的评价!' : '提交失败:链接已使用或已过期。'));
  };
  app.appendChild(go);
}).catch(() => say('网络异常,请稍后重试。'));
"""


@public_bp.get("/r-assets/rating.js")
def rating_script():
    """The rating page's script, as a file: the Content-Security-Policy allows no inline script."""
    response = Response(RATING_SCRIPT, mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@public_bp.get("/r/<token>")
def rating_page(token: str):
    """The page the QR code opens: plain HTML + fetch, no sign-in, no cookies sent."""
    response = Response(RATING_PAGE, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
