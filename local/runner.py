"""``make local`` / ``python -m local``: the whole product on one machine.

Order of start: synthesize the stack -> moto server -> resources from the template -> the Amazon
emulator (or external endpoints) -> the gateway with the real handlers -> the schedule timer ->
demo connect sessions through the real admin API. Ctrl-C stops everything in reverse order.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from local import gateway as gw
from local import moto_fidelity
from local import state as local_state
from local.iam import SIGNING_SERVICE, LocalCredentials
from local.lambda_runtime import LOCAL_REGION, LocalFunction, ensure_lambda_path
from local.schedule import RoundReport, ScheduleRunner
from local.servers import LocalMotoServer
from local.template import (
    API,
    LOCAL_STAGE,
    SECRET,
    LocalProvisioner,
    PhysicalResource,
    StartCancelled,
    Synthesized,
    TemplateError,
    python_handler,
    read_queue_sources,
    read_routes,
    read_schedules,
    resources_of,
    synthesize,
)

log = logging.getLogger("local")

ENDPOINTS_ENV = "ADS_CONNECT_AMAZON_ENDPOINTS"
LWA_SECRET_ENV = "ADS_CONNECT_LWA_SECRET_ID"  # noqa: S105 - a variable name
SECRET_PREFIX_ENV = "ADS_CONNECT_SECRET_PREFIX"  # noqa: S105 - a variable name
PUBLIC_BASE_URL_ENV = "ADS_CONNECT_PUBLIC_BASE_URL"
# The handler modules local mode needs, by role (architecture.md, "Functions and entry points").
SCHEDULER_HANDLER = "ads_connect.handlers.refresh_scheduler.handler"
WORKER_HANDLER = "ads_connect.handlers.refresh_worker.handler"


@dataclass
class LocalOptions:
    host: str = "127.0.0.1"  # where every server binds (loopback only by default)
    public_host: str = "localhost"  # a secure context for Chromium, so __Host- cookies work
    port: int = 8300
    moto_port: int = 8301
    emulator_port: int = 8302
    schedule_seconds: float = 60.0  # 0: no timer, only run-now
    state_dir: Path | None = None
    log_file: Path | None = None
    template_file: Path | None = None  # a synthesized template to use instead of synthesizing
    amazon_endpoints: str | None = None  # external Amazon-compatible endpoints (JSON)
    client_id: str | None = None
    client_secret: str | None = None
    demo: bool = True  # emulator demo accounts + one connect session per region
    credentials: LocalCredentials = field(default_factory=LocalCredentials)


@dataclass
class Ready:
    """Everything a person (or a test) needs once local mode runs."""

    base_url: str
    admin_url: str
    moto_endpoint: str
    emulator_url: str | None
    log_file: str
    tables: list[str]
    queues: dict[str, str]
    secrets: list[str]
    consent_urls: dict[str, str]
    environ: dict[str, str]
    schedule_seconds: float
    # The functions' environment (names and URLs; the LWA secret is referenced by id only).
    function_environment: dict[str, str]
    template_file: str


# Stack outputs `GET /__local__/stack` resolves from the template (the others name resources local
# mode does not create: the schedule, the alert topic, the API).
LOCAL_STACK_OUTPUTS = frozenset(
    {
        "Stage", "TableName", "SecretPrefix", "LwaSecretName", "EventBusName", "WorkQueueUrl",
        "WorkDeadLetterQueueUrl", "RefreshLeadSeconds", "SecretWriteBudget",
    }
)  # fmt: skip


def product_region_codes() -> tuple[str, ...]:
    """The product's region codes, from its one region table (ads_connect/regions.py): local mode
    runs the handlers from lambdas/, so it reads the table they read."""
    ensure_lambda_path()
    from ads_connect.regions import REGION_CODES  # type: ignore[import-not-found]  # noqa: PLC0415

    return tuple(REGION_CODES)


class LocalMode:
    def __init__(
        self,
        options: LocalOptions,
        *,
        console: Callable[[str], None] = print,
        stop: threading.Event | None = None,
    ) -> None:
        self.options = options
        self.say = console
        # Set by Ctrl-C / SIGTERM: start() gives up between phases (StartCancelled).
        self.stop_requested = stop or threading.Event()
        ensure_lambda_path()
        self.moto: LocalMotoServer | None = None
        self.moto_endpoint = ""
        self.gateway: gw.LocalGateway | None = None
        self.emulator: Any = None
        self._emulator_server: Any = None
        self.emulator_url: str | None = None
        self.schedule: ScheduleRunner | None = None
        self.provisioner: LocalProvisioner | None = None
        self.functions: dict[str, LocalFunction] = {}
        self.consent_urls: dict[str, str] = {}
        self._clock_offset = 0.0
        self._clock_installed = False
        self._events_queue_url: str | None = None
        self._stop_events = threading.Event()
        self._events_thread: threading.Thread | None = None
        self._configured_secret_names: set[str] = set()  # the LWA client secrets configured each run
        self._template_file: Path | None = None
        self._stack_name = ""
        self._template_outputs: dict[str, Any] = {}
        self._function_environment: dict[str, str] = {}
        self.ready: Ready | None = None

    # --- URLs ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        assert self.gateway is not None
        return f"http://{self.options.public_host}:{self.gateway.port}"

    def client(self, service: str) -> Any:
        creds = self.options.credentials
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.moto_endpoint,
            region_name=LOCAL_REGION,
            aws_access_key_id=creds.access_key_id,
            aws_secret_access_key=creds.secret_access_key,
        )

    def aws_environ(self) -> dict[str, str]:
        """The AWS settings that point boto3 (and the CLI's SigV4) at local mode."""
        creds = self.options.credentials
        return {
            "AWS_ENDPOINT_URL": self.moto_endpoint,
            "AWS_ACCESS_KEY_ID": creds.access_key_id,
            "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
            "AWS_DEFAULT_REGION": LOCAL_REGION,
            "AWS_REGION": LOCAL_REGION,
        }

    # --- start ----------------------------------------------------------------------------------

    def _check_stop(self) -> None:
        if self.stop_requested.is_set():
            raise StartCancelled("stopped during start-up")

    def start(self, synthesized: Synthesized | None = None) -> Ready:
        """Start every part; raises StartCancelled when a stop is requested before it is up.

        Whatever started is stopped by :meth:`stop`, which the caller runs in any case.
        """
        started = time.monotonic()
        self._check_stop()
        synthesized = synthesized or self._template()
        template = synthesized.template
        self._stack_name = synthesized.stack_name
        self._template_outputs = dict(template.get("Outputs") or {})
        self._template_file = self._keep_template(template)
        self._check_stop()
        self._start_moto()
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(self.aws_environ())
        self._check_stop()

        # The gateway's socket first: its port is the public URL every other part needs.
        config = gw.GatewayConfig(
            routes=[],
            invoke=self._invoke,
            credentials=self.options.credentials,
            on_request=self._request_line,
        )
        try:
            self.gateway = gw.LocalGateway(config, host=self.options.host, port=self.options.port)
        except OSError as error:
            raise _port_error(error, self.options.host, self.options.port, "--port") from None
        self._check_stop()
        endpoints = self._start_amazon()
        self._check_stop()

        lwa_logical_id = _lwa_secret_logical_id(template)
        overrides: dict[str, str] = {}
        client_id, client_secret = self._client_credentials()
        if lwa_logical_id and client_id and client_secret:
            overrides[lwa_logical_id] = json.dumps({"client_id": client_id, "client_secret": client_secret})
            client_id_logical_id = _client_id_secret_logical_id(template)
            if client_id_logical_id:
                # What `credentials set` writes beside the secret: the consent function reads only this.
                overrides[client_id_logical_id] = json.dumps({"client_id": client_id})
        api_stand_ins = {
            logical_id: PhysicalResource(
                gw.LOCAL_API_ID, {"ApiEndpoint": self.base_url, "ApiId": gw.LOCAL_API_ID}
            )
            for logical_id in resources_of(template, API)
        }
        self.provisioner = LocalProvisioner(
            template,
            synthesized.stack_name,
            clients=self.client,
            secret_overrides=overrides,
            stand_ins=api_stand_ins,
            progress=lambda line: self.say(f"  {line}"),
        )
        self.say(f"Creating the stack's resources in local AWS ({self.moto_endpoint}) from the template:")
        self.provisioner.provision()
        self._check_stop()
        created = self.provisioner.created
        self._configured_secret_names = {created[lid][1] for lid in overrides if lid in created}
        self._load_functions(template, endpoints)
        self._restore_state()
        self._wire_routes(template)
        self._wire_schedule(template)
        self._tap_lifecycle_events()
        self._check_stop()

        self.gateway.start()
        if self.schedule and self.options.schedule_seconds > 0:
            self.schedule.start()
        if self.options.demo:
            self._demo_sessions()
        self._check_stop()
        self.ready = self._ready()
        self.say(f"Local mode is up ({time.monotonic() - started:.1f}s).")
        return self.ready

    def _keep_template(self, template: dict[str, Any]) -> Path | None:
        """Next to the log file, the template this run is built from (for people and tests)."""
        if self.options.log_file is None:
            return None
        target = self.options.log_file.parent / "template.json"
        target.write_text(json.dumps(template, indent=1))
        return target

    def _template(self) -> Synthesized:
        if self.options.template_file:
            data = json.loads(self.options.template_file.read_text())
            self.say(f"Using the synthesized template {self.options.template_file}")
            return Synthesized(
                data.get("Metadata", {}).get("StackName", f"AmazonAdsConnect-{LOCAL_STAGE}"), data
            )
        self.say(
            "Synthesizing the stack (python app.py; no asset bundling: the handlers run from lambdas/)..."
        )
        started = time.monotonic()
        done = threading.Event()

        def progress() -> None:
            while not done.wait(10):
                self.say(f"  ...still synthesizing ({time.monotonic() - started:.0f}s)")

        ticker = threading.Thread(target=progress, daemon=True)
        ticker.start()
        try:
            synthesized = synthesize(stop=self.stop_requested)
        finally:
            done.set()
        self.say(f"  synthesized stack {synthesized.stack_name} in {time.monotonic() - started:.1f}s")
        return synthesized

    def _start_moto(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per AWS call on the console
        moto_fidelity.apply()  # AWS's refusals moto would let through (local/moto_fidelity.py)
        try:
            self.moto = LocalMotoServer(self.options.host, self.options.moto_port)
        except OSError as error:
            raise _port_error(error, self.options.host, self.options.moto_port, "--moto-port") from None
        self.moto.start()
        self.moto_endpoint = self.moto.endpoint
        self.say(f"Local AWS (moto server) listens on {self.moto_endpoint}")

    def _start_amazon(self) -> str:
        callback = f"{self.base_url}/callback"
        if self.options.amazon_endpoints:
            self.say("Amazon: external endpoints from ADS_CONNECT_AMAZON_ENDPOINTS")
            self.say(f"  register this redirect URI there: {callback}")
            return self.options.amazon_endpoints
        from emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, Emulator, add_demo_accounts  # noqa: PLC0415

        self.emulator = Emulator(
            client_id=self.options.client_id or DEMO_CLIENT_ID,
            client_secret=self.options.client_secret or DEMO_CLIENT_SECRET,
            redirect_uris=[callback],
        )
        if self.options.demo:
            add_demo_accounts(self.emulator)
        try:
            self._emulator_server = self.emulator.serve(self.options.host, self.options.emulator_port)
        except OSError as error:
            raise _port_error(
                error, self.options.host, self.options.emulator_port, "--emulator-port"
            ) from None
        self.emulator_url = self._emulator_server.base_url
        self.say(f"Amazon emulator on {self.emulator_url} (redirect URI {callback} registered)")
        return str(self._emulator_server.endpoints_json)

    def _client_credentials(self) -> tuple[str | None, str | None]:
        if self.emulator is not None:
            return self.emulator.client_id, self.emulator.client_secret
        return self.options.client_id, self.options.client_secret

    def _load_functions(self, template: dict[str, Any], endpoints: str) -> None:
        assert self.provisioner is not None
        overrides = {
            PUBLIC_BASE_URL_ENV: self.base_url,
            ENDPOINTS_ENV: endpoints,
            "POWERTOOLS_TRACE_DISABLED": "true",  # no X-Ray daemon here
        }
        merged: dict[str, str] = {}
        for logical_id, resource in template.get("Resources", {}).items():
            if resource.get("Type") != "AWS::Lambda::Function" or not python_handler(resource):
                continue
            if not str(python_handler(resource)).startswith("ads_connect."):
                continue  # CDK's own helper functions (log retention, custom resources)
            function = self.provisioner.function(logical_id, overrides)
            self.functions[logical_id] = function
            for name, value in function.environment.items():
                if name in merged and merged[name] != value:
                    # All functions share this process; a per-function value would need its own process.
                    raise TemplateError(
                        f"environment variable {name} differs between functions;"
                        " local mode runs them all in one process"
                    )
                merged[name] = value
        os.environ.update(merged)
        self._function_environment = merged

    def _function(self, handler: str) -> LocalFunction | None:
        return next((f for f in self.functions.values() if f.handler_path == handler), None)

    def _wire_routes(self, template: dict[str, Any]) -> None:
        assert self.gateway is not None
        routes = []
        for spec in read_routes(template):
            function = self.functions.get(spec.function_logical_id)
            if function is None:
                raise TemplateError(f"route {spec.route_key} targets a function local mode cannot run")
            routes.append(gw.Route(spec.route_key, function, spec.iam_authorized))
        self.gateway.config.routes = routes
        self.gateway.config.local_actions = {
            ("POST", "/__local__/run-schedule"): self._run_schedule_action,
            ("POST", "/__local__/advance-clock"): self._advance_clock_action,
            ("GET", "/__local__/stack"): self._stack_action,
        }
        self.say("Gateway routes (from the template): " + ", ".join(sorted(r.route_key for r in routes)))

    def _wire_schedule(self, template: dict[str, Any]) -> None:
        schedules = read_schedules(template)
        sources = read_queue_sources(template)
        scheduler = self.functions.get(schedules[0].function_logical_id) if schedules else None
        source = next((s for s in sources if s.function_logical_id in self.functions), None)
        if scheduler is None or source is None or self.provisioner is None:
            self.say("  no schedule or work-queue event source in the template: the timer is off")
            return
        queue = self.provisioner.resolver.resource(source.queue_logical_id)
        self.schedule = ScheduleRunner(
            scheduler=scheduler,
            worker=self.functions[source.function_logical_id],
            queue_url=queue.ref,
            queue_arn=queue.attributes["Arn"],
            sqs=self.client("sqs"),
            invoke=self._invoke,
            interval_seconds=self.options.schedule_seconds,
            batch_size=source.batch_size,
            report_batch_item_failures=source.report_batch_item_failures,
            on_round=self._round_line,
            on_round_failed=self._round_failed_line,
        )
        every = f"every {self.options.schedule_seconds:g}s" if self.options.schedule_seconds > 0 else "off"
        self.say(
            f"Schedule: deployed {schedules[0].expression}; locally {every}"
            " (run now: POST /__local__/run-schedule)"
        )

    # --- invoking handlers ----------------------------------------------------------------------

    def _invoke(self, function: LocalFunction, event: dict[str, Any]) -> Any:
        result, context = function.invoke(event)
        if context.get_remaining_time_in_millis() == 0:
            log.warning("function %s ran past its %ss timeout", function.name, function.timeout_seconds)
            self.say(f"  ! {function.logical_id} ran past its {function.timeout_seconds:g}s Lambda timeout")
        return result

    def _request_line(self, method: str, label: str, status: int, millis: float) -> None:
        self.say(f"  {method} {label} -> {status} ({millis:.0f} ms)")

    def _round_line(self, report: RoundReport) -> None:
        result = report.scheduler_result if isinstance(report.scheduler_result, dict) else {}
        enqueued = result.get("refreshes_enqueued", "?")
        syncs = result.get("profile_syncs_enqueued", "?")
        self.say(f"  schedule: {enqueued} refresh(es), {syncs} profile sync(s) enqueued; {report.summary()}")
        self._save_state()

    def _round_failed_line(self, error: Exception, failed_rounds: int) -> None:
        self.say(
            f"  ! schedule round failed ({type(error).__name__}); the timer keeps running"
            f" ({failed_rounds} failed round(s) so far; details in the log file)"
        )

    # --- local-only actions ---------------------------------------------------------------------

    def stack_description(self) -> dict[str, Any]:
        """What CloudFormation's DescribeStacks would answer for the outputs `doctor` reads: the
        ones naming resources local mode created, plus its own URLs and timer."""
        assert self.provisioner is not None
        outputs: dict[str, str] = {
            "ConsentBaseUrl": f"{self.base_url}/",
            "RedirectUri": f"{self.base_url}/callback",
            "AdminApiUrl": f"{self.base_url}/admin",
            "LocalScheduleSeconds": f"{self.options.schedule_seconds:g}",
        }
        for key, output in (self._template_outputs or {}).items():
            if key in LOCAL_STACK_OUTPUTS:
                try:
                    outputs[key] = str(self.provisioner.resolver.resolve(output.get("Value")))
                except TemplateError:
                    continue  # names a resource local mode does not create
        return {"StackName": self._stack_name, "StackStatus": "LOCAL", "Outputs": outputs}

    def _stack_action(self, _: bytes) -> gw.HttpAnswer:
        return gw.json_answer(200, self.stack_description())

    def run_schedule_now(self) -> RoundReport:
        if self.schedule is None:
            raise RuntimeError("the template has no schedule / event source local mode can run")
        return self.schedule.run_now()

    def _run_schedule_action(self, _: bytes) -> gw.HttpAnswer:
        if self.schedule is None:
            return gw.json_answer(409, {"message": "no schedule in the template"})
        try:
            report = self.schedule.run_now()
        except Exception as error:
            log.exception("schedule round (run now) failed")
            self._round_failed_line(error, self.schedule.failed_rounds)
            return gw.json_answer(
                500,
                {"message": f"the schedule round failed ({type(error).__name__}); see the log file"},
            )
        return gw.json_answer(
            200,
            {
                "scheduler": report.scheduler_result,
                "batches": report.batches,
                "delivered": report.delivered,
                "failed": report.failed,
                "errors": report.errors,
            },
        )

    def advance_clock(self, seconds: float) -> float:
        """Move the product's clock (and the in-process emulator's) forward. Local-only time travel,
        so a person can watch a refresh without waiting 45 minutes."""
        if not self._clock_installed:
            from ads_connect import clock as product_clock  # type: ignore[import-not-found]  # noqa: PLC0415

            mode = self

            def now(_self: object) -> datetime:
                return datetime.now(UTC) + timedelta(seconds=mode._clock_offset)

            product_clock.SystemClock.now = now
            self._clock_installed = True
        self._clock_offset += seconds
        if seconds >= _warm_cache_seconds():
            _recycle_warm_functions()
        if self.emulator is not None:
            self.emulator.advance(seconds)
        self.say(f"  clock advanced by {seconds:g}s (total offset {self._clock_offset:g}s)")
        return self._clock_offset

    def _advance_clock_action(self, body: bytes) -> gw.HttpAnswer:
        try:
            seconds = float(json.loads(body or b"{}")["seconds"])
        except (ValueError, KeyError, TypeError):
            return gw.json_answer(400, {"message": 'body must be {"seconds": <number>}'})
        if not 0 < seconds <= 30 * 86400:
            return gw.json_answer(400, {"message": "seconds must be between 0 and 30 days"})
        return gw.json_answer(200, {"offset_seconds": self.advance_clock(seconds)})

    # --- the admin API, signed with the local credentials ----------------------------------------

    def admin(self, method: str, path: str, body: Any = None, timeout: float = 30) -> requests.Response:
        url = f"{self.base_url}/admin/{path.lstrip('/')}"
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        request = AWSRequest(method=method, url=url, data=data, headers=headers)
        creds = self.options.credentials
        SigV4Auth(
            ReadOnlyCredentials(creds.access_key_id, creds.secret_access_key, None),
            SIGNING_SERVICE,
            LOCAL_REGION,
        ).add_auth(request)
        prepared = request.prepare()
        return requests.request(
            method, prepared.url, data=data, headers=dict(prepared.headers.items()), timeout=timeout
        )

    def create_connect_session(
        self, tenant_id: str, *, region: str | None = None, display_name: str | None = None
    ) -> str:
        body: dict[str, Any] = {}
        if region:
            body["region"] = region
        if display_name:
            body["display_name"] = display_name
        response = self.admin("POST", f"tenants/{tenant_id}/connect-sessions", body)
        if response.status_code != 201:
            raise RuntimeError(
                f"creating a connect session failed: HTTP {response.status_code} {response.text[:300]}"
            )
        return str(response.json()["consent_url"])

    def _demo_sessions(self) -> None:
        if not any(r.route_key.startswith(("ANY /admin", "POST /admin")) for r in self._routes()):
            self.say("  (no admin route in the template: no demo connect sessions)")
            return
        for region in product_region_codes():
            tenant = f"demo-{region.lower()}"
            self.consent_urls[region] = self.create_connect_session(
                tenant, region=region, display_name=f"Demo tenant ({region})"
            )

    def _routes(self) -> list[gw.Route]:
        return self.gateway.config.routes if self.gateway else []

    # --- lifecycle events, shown to the person watching -----------------------------------------

    def _tap_lifecycle_events(self) -> None:
        """A local-only rule on the stack's bus copies every lifecycle event to a local queue, so
        the console can show what the product announces."""
        assert self.provisioner is not None
        buses = [name for kind, name in self.provisioner.created.values() if kind == "AWS::Events::EventBus"]
        if not buses:
            return
        sqs, events = self.client("sqs"), self.client("events")
        url = sqs.create_queue(QueueName="local-mode-lifecycle-tap")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for bus in buses:
            events.put_rule(
                Name="local-mode-tap", EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": ""}]})
            )
            events.put_targets(
                Rule="local-mode-tap", EventBusName=bus, Targets=[{"Id": "local-tap", "Arn": arn}]
            )
        self._events_queue_url = url
        self._events_thread = threading.Thread(target=self._show_events, name="local-events", daemon=True)
        self._events_thread.start()

    def _show_events(self) -> None:
        sqs = self.client("sqs")
        while not self._stop_events.is_set():
            try:
                batch = sqs.receive_message(
                    QueueUrl=self._events_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                )
            except Exception:
                log.debug("lifecycle tap stopped", exc_info=True)
                return
            for message in batch.get("Messages", []):
                event = json.loads(message["Body"])
                detail = event.get("detail", {})
                self.say(
                    f"  event: {event.get('detail-type')}"
                    f" (tenant {detail.get('tenant_id')}, {detail.get('region')})"
                )
                sqs.delete_message(QueueUrl=self._events_queue_url, ReceiptHandle=message["ReceiptHandle"])

    # --- state ----------------------------------------------------------------------------------

    def _tables(self) -> list[str]:
        assert self.provisioner is not None
        return [name for kind, name in self.provisioner.created.values() if kind == "AWS::DynamoDB::Table"]

    def _restore_state(self) -> None:
        if self.options.state_dir is None:
            return
        data = local_state.load(self.options.state_dir)
        if data is None:
            self.say(f"State directory {self.options.state_dir}: empty, starting fresh")
            return
        local_state.import_aws(self.client, data.get("aws", {}), keep_created=self._configured_secret_names)
        if self.emulator is not None and data.get("emulator"):
            local_state.import_emulator(self.emulator, data["emulator"])
        self.say(f"State restored from {self.options.state_dir}")

    def _save_state(self) -> None:
        if self.options.state_dir is None or self.provisioner is None:
            return
        snapshot: dict[str, Any] = {"aws": local_state.export_aws(self.client, self._tables())}
        if self.emulator is not None:
            snapshot["emulator"] = local_state.export_emulator(self.emulator)
        local_state.save(self.options.state_dir, snapshot)

    # --- ready / stop ---------------------------------------------------------------------------

    def _ready(self) -> Ready:
        assert self.provisioner is not None
        created = self.provisioner.created
        return Ready(
            base_url=self.base_url,
            admin_url=f"{self.base_url}/admin",
            moto_endpoint=self.moto_endpoint,
            emulator_url=self.emulator_url,
            log_file=str(self.options.log_file or ""),
            tables=self._tables(),
            queues={lid: name for lid, (kind, name) in created.items() if kind == "AWS::SQS::Queue"},
            secrets=[name for kind, name in created.values() if kind == SECRET],
            consent_urls=dict(self.consent_urls),
            environ=self.aws_environ(),
            schedule_seconds=self.options.schedule_seconds,
            function_environment=dict(self._function_environment),
            template_file=str(self._template_file or ""),
        )

    def stop(self) -> None:
        """Stop whatever start() got to, in reverse order; never blocks on a part that never ran.

        Each part is stopped even when an earlier one fails (the failure is logged and shown).
        """
        self._stop_events.set()
        self._stop_part("the schedule timer", self.schedule.stop if self.schedule else None)
        self._stop_part("the gateway", self.gateway.stop if self.gateway else None)
        self._stop_part("saving the state", self._save_state_on_stop)
        if self._events_thread:
            self._events_thread.join(timeout=5)
        self._stop_part("the Amazon emulator", self._emulator_server.stop if self._emulator_server else None)
        self._stop_part("moto server", self.moto.stop if self.moto else None)

    def _stop_part(self, name: str, stop: Callable[[], None] | None) -> None:
        if stop is None:
            return
        try:
            stop()
        except Exception:
            log.exception("stopping %s failed", name)
            self.say(f"  ! stopping {name} failed; see the log file")

    def _save_state_on_stop(self) -> None:
        self._save_state()
        if self.options.state_dir:
            self.say(f"State saved in {self.options.state_dir}")


class PortInUseError(OSError):
    """A configured port is taken (names the flag that changes it)."""


def _port_error(error: OSError, host: str, port: int, flag: str) -> OSError:
    """A busy port names the flag that changes it; any other bind failure is passed on as is."""
    if error.errno == errno.EADDRINUSE:
        return PortInUseError(f"port {port} on {host} is in use: choose another with {flag}")
    return error


def _client_id_secret_logical_id(template: dict[str, Any]) -> str | None:
    """The secret named ``client_id_secret_name(<the functions' secret prefix>)``: the product's
    one rule for that name, read from the handlers' own code as Lambda would load it."""
    ensure_lambda_path()
    from ads_connect.adapters.secrets import client_id_secret_name  # type: ignore[import-not-found]  # noqa: PLC0415

    prefixes = {
        variables.get(SECRET_PREFIX_ENV)
        for resource in resources_of(template, "AWS::Lambda::Function").values()
        if (variables := ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {})
    }
    names = {client_id_secret_name(p) for p in prefixes if isinstance(p, str)}
    for logical_id, secret in resources_of(template, SECRET).items():
        if (secret.get("Properties") or {}).get("Name") in names:
            return logical_id
    return None


def _lwa_secret_logical_id(template: dict[str, Any]) -> str | None:
    """The secret the functions' ADS_CONNECT_LWA_SECRET_ID names (by reference or by name)."""
    secrets = resources_of(template, SECRET)
    for resource in resources_of(template, "AWS::Lambda::Function").values():
        variables = ((resource.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}
        value = variables.get(LWA_SECRET_ENV)
        if value is None:
            continue
        text = json.dumps(value)
        for logical_id, secret in secrets.items():
            name = (secret.get("Properties") or {}).get("Name")
            if f'"{logical_id}"' in text or (isinstance(name, str) and value == name):
                return logical_id
    return None


def _warm_cache_seconds() -> float:
    """The functions keep the LWA client credentials this long (adapters/secrets.py). Moving the
    clock past it recycles local mode's warm functions, as that much time would on AWS (a
    container re-reads them, or a new one starts), so "run the schedule past the credential
    cache" can be tried without waiting five real minutes."""
    ensure_lambda_path()
    from ads_connect.adapters.secrets import CLIENT_CREDENTIALS_CACHE_SECONDS  # type: ignore[import-not-found]  # noqa: PLC0415

    return float(CLIENT_CREDENTIALS_CACHE_SECONDS)


def _recycle_warm_functions() -> None:
    for name in (
        "ads_connect.handlers.refresh_worker",
        "ads_connect.handlers.refresh_scheduler",
        "ads_connect.handlers.dependencies",
        "ads_connect.handlers.admin",
    ):
        reset = getattr(sys.modules.get(name), "reset", None)
        if callable(reset):
            reset()
