"""lrcast client for training loops: one file, Python 3.8+ standard library only.

Log a run as it trains, ask lrcast where it is heading, and train with a schedule it found::

    import lrcast

    client = lrcast.Client("http://127.0.0.1:8080", token=None)
    run = client.upload_curve("my-run", [{"step": 0, "loss": 10.9, "lr": 0.0}],
                              planned_schedule="cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5")
    client.append_points(run, [{"step": 100, "loss": 7.2, "lr": 1.4e-5}])
    print(client.forecast(run, law="mpl")["final"])

Every error of the API raises LrcastError with the problem+json's status, detail and field.
torch is imported only by `lambda_lr`, so the module loads without it.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["Client", "LrcastError", "lambda_lr_factor", "lambda_lr"]


class LrcastError(Exception):
    """An answer of the API with an error status (problem+json), or a server that could not be reached (status 0)."""

    def __init__(self, status, detail, field=None, problem=None):
        super().__init__("lrcast %s: %s%s" % (status, detail, " (field %s)" % field if field else ""))
        self.status = status
        self.detail = detail
        self.field = field
        self.problem = problem or {}


class Client:
    """The lrcast API at `base_url` (e.g. http://127.0.0.1:8080); `token` for servers with LRCAST_TOKEN set."""

    def __init__(self, base_url, token=None, timeout=60.0):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    # -- transport ---------------------------------------------------------------------------

    def _request(self, method, path, query=None, body=None):
        url = self.base_url + path
        if query:
            pairs = [(k, v) for k, v in query.items() if v is not None]
            if pairs:
                url += "?" + urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)
        headers = {"accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body, allow_nan=False).encode("utf-8")
            headers["content-type"] = "application/json"
        if self.token:
            headers["authorization"] = "Bearer " + self.token
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                text = response.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            raise _problem_error(error) from None
        except urllib.error.URLError as error:
            raise LrcastError(0, "cannot reach %s: %s" % (self.base_url, error.reason)) from None
        return json.loads(text) if text else None

    # -- curves and live runs ----------------------------------------------------------------

    def upload_curve(self, name, points, schedule=None, planned_schedule=None, meta=None, warmup_steps=None):
        """Store a curve (`points`: dicts or (step, loss[, lr]) tuples); returns its id.

        `schedule`: the spec the whole run follows (logged lrs must agree with it); otherwise log lrs and
        give `planned_schedule`, the spec planned for the run, which forecasts follow after the last step.
        """
        body = {"name": name, "points": _points(points)}
        for key, value in (("schedule", schedule), ("plannedSchedule", planned_schedule), ("meta", meta), ("warmupSteps", warmup_steps)):
            if value is not None:
                body[key] = value
        return self._request("POST", "/curves", body=body)["id"]

    def append_points(self, curve_id, points):
        """Append points (any order; resending stored ones is harmless). Returns {added, unchanged, pointCount, lastStep, ...}."""
        return self._request("POST", "/curves/%d/points" % curve_id, body={"points": _points(points)})

    def set_plan(self, curve_id, schedule):
        """Set (None: clear) the run's planned schedule spec."""
        return self._request("PUT", "/curves/%d/plan" % curve_id, body={"schedule": schedule})

    def list_curves(self, limit=100, offset=0):
        """A page of stored curves (without points): {items, total, limit, offset}."""
        return self._request("GET", "/curves", query={"limit": limit, "offset": offset})

    def curve(self, curve_id):
        """The stored curve with its points."""
        return self._request("GET", "/curves/%d" % curve_id)

    def forecast(self, curve_id, fit=None, law=None, interval=None, with_curves=None, points=None):
        """The predicted rest of the run: `fit=ID` of a stored fit, or `law='mpl'|'lra'` fitted to the run so far
        (plus the curves `with_curves`). Keys: steps, loss, final {step, loss[, lower, upper]}, history, warnings."""
        query = {"fit": fit, "law": law, "interval": interval, "points": points}
        if with_curves:
            query["with"] = ",".join(str(int(c)) for c in with_curves)
        return self._request("GET", "/curves/%d/forecast" % curve_id, query=query)

    # -- fits, schedules, optimization -------------------------------------------------------

    def fit(self, curve_ids, law="mpl", options=None):
        """Fit a law to stored curves; returns the stored fit (its id is `["id"]`)."""
        body = {"curveIds": list(curve_ids), "law": law}
        if options:
            body["options"] = options
        return self._request("POST", "/fit", body=body)

    def optimize(self, **request):
        """POST /optimize-schedule with the request's fields as keywords (fit=1, totalSteps=24000, ...).
        The answer has `schedule` (a spec), `scheduleId` and `predictedFinalLoss`."""
        return self._request("POST", "/optimize-schedule", body=request)

    def schedule_lrs(self, schedule_id):
        """The learning rate of every step (index = step) of a stored schedule (e.g. an optimize answer's scheduleId)."""
        return self._request("GET", "/schedules/%d" % schedule_id, query={"format": "json"})["lrs"]

    def lambda_lr_factor(self, schedule, base_lr):
        """`lambda_lr_factor` with the schedule fetched when `schedule` is a stored schedule's id."""
        lrs = self.schedule_lrs(schedule) if isinstance(schedule, int) else schedule
        return lambda_lr_factor(lrs, base_lr)

    def lambda_lr(self, optimizer, schedule, base_lr=None):
        """A torch LambdaLR following a stored schedule (id) or a list of per-step lrs; see `lambda_lr`."""
        lrs = self.schedule_lrs(schedule) if isinstance(schedule, int) else schedule
        return lambda_lr(optimizer, lrs, base_lr)


def lambda_lr_factor(lrs, base_lr):
    """A function step -> lrs[step] / base_lr for torch.optim.lr_scheduler.LambdaLR, whose lr is the
    optimizer's initial lr (`base_lr`) times it. Steps past the end keep the last lr."""
    if not lrs:
        raise ValueError("the schedule has no steps")
    if not base_lr > 0:
        raise ValueError("base_lr must be > 0, got %r" % (base_lr,))
    factors = [float(lr) / base_lr for lr in lrs]
    last = len(factors) - 1

    def factor(step):
        return factors[min(max(int(step), 0), last)]

    return factor


def lambda_lr(optimizer, lrs, base_lr=None):
    """torch.optim.lr_scheduler.LambdaLR for `optimizer` following the per-step `lrs` (call scheduler.step()
    after every optimizer.step()). `base_lr`: the optimizer's lr (default: its first param group's)."""
    import torch  # only here: the rest of the client needs no torch

    if base_lr is None:
        base_lr = optimizer.param_groups[0].get("initial_lr", optimizer.param_groups[0]["lr"])
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda_lr_factor(lrs, base_lr))


def _points(points):
    """Points as the API takes them: dicts {step, loss, lr?}, or (step, loss) / (step, loss, lr) tuples."""
    out = []
    for p in points:
        if isinstance(p, dict):
            out.append({k: p[k] for k in ("step", "loss", "lr") if p.get(k) is not None})
        else:
            entry = {"step": int(p[0]), "loss": float(p[1])}
            if len(p) > 2 and p[2] is not None:
                entry["lr"] = float(p[2])
            out.append(entry)
    return out


def _problem_error(error):
    """LrcastError from an HTTPError's problem+json body (or its text when it is not one)."""
    raw = error.read().decode("utf-8", "replace")
    try:
        problem = json.loads(raw)
    except ValueError:
        problem = None
    if not isinstance(problem, dict):
        return LrcastError(error.code, raw.strip() or str(error.reason))
    return LrcastError(problem.get("status", error.code), problem.get("detail", str(error.reason)), problem.get("field"), problem)
