//! The browser side of the suite: one chromedriver per test binary, one headless Chromium
//! session per [`Browser`], and the few actions the tests need, named as a person would say them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::{Semaphore, SemaphorePermit};
use url::Url;

use crate::helpers::{spawn_app_with, Backend, TestApp};

/// Where the suite looks for the browser, the driver and axe-core (each can be overridden).
const CHROMIUM: (&str, &str) = ("KEYHAVEN_CHROMIUM", "/usr/bin/chromium");
const CHROMEDRIVER: (&str, &str) = ("KEYHAVEN_CHROMEDRIVER", "/usr/bin/chromedriver");
const AXE_JS: (&str, &str) = (
    "KEYHAVEN_AXE_JS",
    "/var/tmp/keyhaven-ci/axe/node_modules/axe-core/axe.min.js",
);

/// How long a page may take to load after a click, and a script (axe) to run.
const PAGE_LOAD: Duration = Duration::from_secs(20);

/// At most this many Chromium sessions at once in this binary: each is several processes, and
/// the machine's cores are shared with the server under test.
static SESSIONS: Semaphore = Semaphore::const_new(2);

fn setting((name, default): (&str, &str)) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewport {
    /// 1280 x 800 CSS pixels.
    Desktop,
    /// 390 x 844 CSS pixels at 3 device pixels each, touch, a mobile user agent's layout rules
    /// (the `viewport` meta tag is honoured): a current phone.
    Mobile,
}

impl Viewport {
    pub fn name(self) -> &'static str {
        match self {
            Viewport::Desktop => "desktop",
            Viewport::Mobile => "mobile",
        }
    }

    pub fn size(self) -> (u32, u32) {
        match self {
            Viewport::Desktop => (1280, 800),
            Viewport::Mobile => (390, 844),
        }
    }

    /// Chromium's device emulation gives the page exactly this viewport (a window size would
    /// include whatever the headless window keeps for itself).
    fn device_metrics(self) -> Value {
        let (width, height) = self.size();
        match self {
            Viewport::Desktop => {
                json!({ "width": width, "height": height, "pixelRatio": 1.0, "touch": false, "mobile": false })
            }
            Viewport::Mobile => {
                json!({ "width": width, "height": height, "pixelRatio": 3.0, "touch": true, "mobile": true })
            }
        }
    }
}

/// The chromedriver of this test binary: started by the first browser, on a free port, and
/// ended with the process (it gets SIGTERM when the thread that started it ends, and that
/// thread waits on it for the life of the process).
fn chromedriver() -> &'static str {
    static DRIVER: OnceLock<Result<String, String>> = OnceLock::new();
    match DRIVER.get_or_init(start_chromedriver) {
        Ok(url) => url,
        Err(why) => panic!("{why}"),
    }
}

fn start_chromedriver() -> Result<String, String> {
    let binary = setting(CHROMEDRIVER);
    if !Path::new(&binary).is_file() {
        return Err(format!(
            "no chromedriver at {binary}: the browser suite needs chromium and chromium-driver \
             (`apt-get install chromium chromium-driver`, as .ci/run does; or set {})",
            CHROMEDRIVER.0
        ));
    }
    // chromedriver takes a port number, not a socket: ask the system for a free one.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("no free port for chromedriver: {e}"))?
        .port();
    let (started, outcome) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("chromedriver".into())
        .spawn(move || {
            let mut command = Command::new(&binary);
            command
                .arg(format!("--port={port}"))
                .arg("--allowed-ips=127.0.0.1")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            end_with_this_thread(&mut command);
            match command.spawn() {
                Ok(mut child) => {
                    let _ = started.send(Ok(()));
                    // This thread lives as long as the driver does: its end would signal it.
                    let _ = child.wait();
                }
                Err(e) => {
                    let _ = started.send(Err(format!("cannot start {binary}: {e}")));
                }
            }
        })
        .map_err(|e| format!("cannot start the chromedriver thread: {e}"))?;
    outcome
        .recv()
        .map_err(|_| "the chromedriver thread ended".to_owned())??;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(reply) = raw_request(port, "GET", "/status") {
            if reply.contains("\"ready\":true") {
                return Ok(format!("http://127.0.0.1:{port}"));
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!("chromedriver did not answer on port {port} within 20 s"))
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn end_with_this_thread(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn end_with_this_thread(_: &mut Command) {}

/// One HTTP request to chromedriver with std alone: used where no runtime can be (Drop).
/// chromedriver keeps the connection open, so the body is read by its Content-Length.
fn raw_request(port: u16, method: &str, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    let mut reply = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            break;
        }
        reply.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&reply);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
                .and_then(|(_, value)| value.trim().parse::<usize>().ok());
            if length.is_some_and(|length| body.len() >= length) {
                break;
            }
        }
    }
    Ok(String::from_utf8_lossy(&reply).into_owned())
}

/// axe-core's source, read once.
fn axe_source() -> &'static str {
    static AXE: OnceLock<Result<String, String>> = OnceLock::new();
    let loaded = AXE.get_or_init(|| {
        let mut path = PathBuf::from(setting(AXE_JS));
        if path.is_dir() {
            path = ["node_modules/axe-core/axe.min.js", "axe.min.js"]
                .iter()
                .map(|p| path.join(p))
                .find(|p| p.is_file())
                .unwrap_or(path);
        }
        std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "cannot read axe-core at {} ({e}): install it with \
                 `npm install --prefix /var/tmp/keyhaven-ci/axe axe-core@4` (.ci/run does) or set {}",
                path.display(),
                AXE_JS.0
            )
        })
    });
    match loaded {
        Ok(source) => source,
        Err(why) => panic!("{why}"),
    }
}

/// `target/browser-artifacts`, wherever the target directory is.
fn artifacts_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("browser-artifacts")
}

/// Empties the test's artefact folder the first time this run opens a browser for it, so a
/// `failure-*.png` of an earlier run is not mistaken for this one's.
fn clear_old_artifacts(test: &str) {
    static CLEARED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut cleared = CLEARED.lock().unwrap_or_else(|p| p.into_inner());
    if !cleared.iter().any(|t| t == test) {
        let _ = std::fs::remove_dir_all(artifacts_dir().join(test));
        cleared.push(test.to_owned());
    }
}

/// The running test's name (the test harness names each test's thread after it), as a folder.
fn test_name() -> String {
    std::thread::current().name().unwrap_or("unnamed").replace("::", "-")
}

/// One axe-core finding: the rule, how bad, and the elements (CSS selectors) it found.
#[derive(Debug, Deserialize)]
pub struct AxeViolation {
    pub id: String,
    pub impact: Option<String>,
    pub help: String,
    pub nodes: Vec<AxeNode>,
}

#[derive(Debug, Deserialize)]
pub struct AxeNode {
    pub target: Vec<Value>,
}

impl std::fmt::Display for AxeViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let targets: Vec<String> = self.nodes.iter().map(|n| render_target(&n.target)).collect();
        write!(
            f,
            "{} ({}): {} -- {}",
            self.id,
            self.impact.as_deref().unwrap_or("no impact given"),
            self.help,
            targets.join(", ")
        )
    }
}

/// A node's target: a selector, or a list of them through iframes and shadow roots.
fn render_target(target: &[Value]) -> String {
    target
        .iter()
        .map(|t| t.as_str().map(str::to_owned).unwrap_or_else(|| t.to_string()))
        .collect::<Vec<_>>()
        .join(" >> ")
}

/// A headless Chromium session with one viewport. Dropping it ends the session (and its
/// Chromium), also when the test panicked, and then saves a last screenshot `failure-*.png`.
pub struct Browser {
    client: Client,
    viewport: Viewport,
    driver_port: u16,
    session: String,
    test: String,
    _slot: SemaphorePermit<'static>,
}

impl Browser {
    pub async fn new(viewport: Viewport) -> Browser {
        let driver = chromedriver();
        let slot = SESSIONS.acquire().await.expect("the session semaphore is never closed");
        let chrome_options = json!({
            "binary": setting(CHROMIUM),
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                // Containers give /dev/shm 64 MiB; Chromium then crashes on larger pages.
                "--disable-dev-shm-usage",
            ],
            "mobileEmulation": { "deviceMetrics": viewport.device_metrics() },
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), chrome_options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(driver)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "chromedriver ({driver}) could not start Chromium at {}: {e} \
                     (install chromium, or set {})",
                    setting(CHROMIUM),
                    CHROMIUM.0
                )
            });
        let session = client
            .session_id()
            .await
            .expect("session id")
            .expect("a session was created");
        let driver_port = Url::parse(driver)
            .ok()
            .and_then(|u| u.port())
            .expect("the driver URL has a port");
        let test = test_name();
        clear_old_artifacts(&test);
        let browser = Browser {
            client,
            viewport,
            driver_port,
            session,
            test,
            _slot: slot,
        };
        // A desktop's window is its viewport. A phone's screen is emulated, and its layout
        // viewport is the page's to set (see no_horizontal_scroll).
        let measure = match viewport {
            Viewport::Desktop => "return [window.innerWidth, window.innerHeight];",
            Viewport::Mobile => "return [window.screen.width, window.screen.height];",
        };
        let seen: (u32, u32) = serde_json::from_value(browser.script(measure, vec![]).await).expect("two numbers");
        assert_eq!(seen, viewport.size(), "the {} screen", viewport.name());
        browser
    }

    /// Opens `url`: absolute, or relative to the current page as a link would be.
    pub async fn goto(&self, url: &str) {
        let target = match Url::parse(url) {
            Ok(absolute) => absolute,
            Err(_) => self
                .current_url()
                .await
                .join(url)
                .unwrap_or_else(|e| panic!("{url} relative to the current page: {e}")),
        };
        self.client
            .goto(target.as_str())
            .await
            .unwrap_or_else(|e| panic!("open {target}: {e}"));
    }

    /// Opens `url`, which redirects to an app's address that nothing answers (as the
    /// registered clients' are): the browser stays there with an error page.
    pub async fn goto_ending_at_the_app(&self, url: &str) {
        match self.client.goto(url).await {
            Ok(()) => {}
            Err(e) if e.to_string().contains("ERR_CONNECTION_REFUSED") => {}
            Err(e) => panic!("open {url}: {e}"),
        }
    }

    pub async fn current_url(&self) -> Url {
        self.client.current_url().await.expect("current URL")
    }

    /// The current page's path, e.g. `/login`.
    pub async fn path(&self) -> String {
        self.current_url().await.path().to_owned()
    }

    /// The text of the page's first `<h1>`.
    pub async fn heading(&self) -> String {
        let h1 = self
            .client
            .find(Locator::Css("h1"))
            .await
            .unwrap_or_else(|e| panic!("no <h1> on {}: {e}", self.describe_page_blocking()));
        h1.text().await.expect("heading text")
    }

    /// Types `value` into the field labelled `label` (its `<label>` text), or named `label`.
    pub async fn fill(&self, label: &str, value: &str) {
        let field = self.field(label).await;
        field.clear().await.expect("clear the field");
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {label:?}: {e}"));
    }

    async fn field(&self, label: &str) -> Element {
        let text = xpath_literal(label);
        if let Ok(label_element) = self
            .client
            .find(Locator::XPath(&format!("//label[normalize-space(.)={text}]")))
            .await
        {
            if let Some(id) = label_element.attr("for").await.expect("label's for") {
                let by_id = format!("//*[@id={}]", xpath_literal(&id));
                return self
                    .client
                    .find(Locator::XPath(&by_id))
                    .await
                    .unwrap_or_else(|e| panic!("label {label:?} is for #{id}, which is missing: {e}"));
            }
            if let Ok(inner) = label_element
                .find(Locator::XPath(".//input | .//textarea | .//select"))
                .await
            {
                return inner;
            }
        }
        // Not a hidden input: the header's sign-out form has a hidden "confirm".
        let by_name =
            format!("//*[(self::input[not(@type='hidden')] or self::textarea or self::select) and @name={text}]");
        self.client.find(Locator::XPath(&by_name)).await.unwrap_or_else(|_| {
            panic!(
                "no field labelled or named {label:?} on {}",
                self.describe_page_blocking()
            )
        })
    }

    /// Clicks the button (or link) whose text is `text`, and waits for the page it loads.
    pub async fn click(&self, text: &str) {
        let text_literal = xpath_literal(text);
        let xpath = format!(
            "//button[normalize-space(.)={text_literal}] \
             | //input[(@type='submit' or @type='button') and @value={text_literal}] \
             | //a[normalize-space(.)={text_literal}]"
        );
        let target = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|_| panic!("no button or link {text:?} on {}", self.describe_page_blocking()));
        let page = self.document().await;
        target.click().await.unwrap_or_else(|e| panic!("click {text:?}: {e}"));
        self.wait_until_replaced(&page, text).await;
    }

    /// Waits until `old` (the previous document's root) is gone and the new page has loaded.
    async fn wait_until_replaced(&self, old: &Element, what: &str) {
        let deadline = Instant::now() + PAGE_LOAD;
        loop {
            match old.tag_name().await {
                // Chromium answers "no such element" for a node of a document it has left.
                Err(e) if e.is_stale_element_reference() || e.is_no_such_element() => break,
                _ if Instant::now() > deadline => panic!("{what:?} loaded no new page within {PAGE_LOAD:?}"),
                _ => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        }
        while Instant::now() < deadline {
            if let Ok(Value::String(state)) = self.client.execute("return document.readyState;", vec![]).await {
                if state == "complete" {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the page after {what:?} did not finish loading within {PAGE_LOAD:?}");
    }

    /// The current document's root, to wait for its replacement.
    async fn document(&self) -> Element {
        self.client.find(Locator::Css("html")).await.expect("a document")
    }

    /// Reloads the page (as the reload button does) and waits for it.
    pub async fn reload(&self) {
        let page = self.document().await;
        self.client.refresh().await.expect("reload");
        self.wait_until_replaced(&page, "reload").await;
    }

    /// Goes back one page (as the back button does) and waits for it.
    pub async fn back(&self) {
        let page = self.document().await;
        self.client.back().await.expect("back");
        self.wait_until_replaced(&page, "back").await;
    }

    /// Clicks the element `css` selects (a link or a button, found by a stable attribute rather
    /// than its words), and waits for the page it loads.
    pub async fn click_css(&self, css: &str) {
        let target = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("nothing matches {css:?} on {}", self.describe_page_blocking()));
        let page = self.document().await;
        target.click().await.unwrap_or_else(|e| panic!("click {css:?}: {e}"));
        self.wait_until_replaced(&page, css).await;
    }

    /// Submits the form with `action` inside `scope` (a CSS selector, "" for the page) with its
    /// submit button, first opening the `<details>` that hides it, as a person would.
    pub async fn submit_in(&self, scope: &str, action: &str) {
        let form = format!("form[action={}]", css_string(action));
        let summary = format!("{scope} details:not([open]):has(> {form}) > summary");
        if let Ok(closed) = self.client.find(Locator::Css(&summary)).await {
            closed.click().await.unwrap_or_else(|e| panic!("open {summary:?}: {e}"));
        }
        self.click_css(&format!("{scope} {form} [type=submit]")).await;
    }

    /// Submits the page's form with `action` (see [`Browser::submit_in`]).
    pub async fn submit(&self, action: &str) {
        self.submit_in("", action).await;
    }

    /// The current value of the field labelled or named `label`.
    pub async fn value(&self, label: &str) -> String {
        let field = self.field(label).await;
        field
            .prop("value")
            .await
            .expect("the field's value")
            .unwrap_or_default()
    }

    /// How many elements `css` selects.
    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map_or(0, |found| found.len())
    }

    /// The text of the first element `css` selects, if there is one.
    pub async fn text_of(&self, css: &str) -> Option<String> {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => Some(element.text().await.expect("element text")),
            Err(_) => None,
        }
    }

    /// What the page says once after a form post (its `.notice`), if it says it.
    pub async fn notice(&self) -> Option<String> {
        self.text_of(".notice").await
    }

    /// The page's visible text.
    pub async fn body_text(&self) -> String {
        self.text_of("body").await.unwrap_or_default()
    }

    /// One page state checked: a screenshot, axe-core's audit, and on a phone no sideways
    /// scroll.
    pub async fn check_page(&self, step: &str) {
        self.screenshot(step).await;
        self.assert_no_axe_violations().await;
        if self.viewport == Viewport::Mobile {
            self.no_horizontal_scroll().await;
        }
    }

    /// After a form post that succeeded (answered by a redirect to a page: Post/Redirect/Get):
    /// reloading shows the same page (a `GET`: nothing is posted again, so the notice the post
    /// left is not said twice), and Back shows the page before the form, `back_path` with the
    /// heading `back_heading`: never "method not allowed", never "this form has expired". Each
    /// state is checked as [`Browser::check_page`] does.
    pub async fn reload_and_go_back(&self, step: &str, back_path: &str, back_heading: &str) {
        let url = self.current_url().await;
        let heading = self.heading().await;
        self.reload().await;
        assert_eq!(self.current_url().await, url, "reloading stays on the page");
        assert_eq!(self.heading().await, heading, "reloading {url} shows the same page");
        assert_eq!(self.notice().await, None, "reloading {url} posted nothing again");
        self.no_error_page().await;
        self.check_page(&format!("{step}-reloaded")).await;
        self.back().await;
        assert_eq!(self.path().await, back_path, "Back from {url}");
        assert_eq!(self.heading().await, back_heading, "Back from {url} to {back_path}");
        self.no_error_page().await;
        self.check_page(&format!("{step}-back")).await;
    }

    /// Fails on a page that refuses what the browser did with a form.
    async fn no_error_page(&self) {
        let text = self.body_text().await;
        for refusal in [
            "This form has expired",
            "This page cannot do that",
            "Method Not Allowed",
        ] {
            assert!(
                !text.contains(refusal),
                "{} says {refusal:?}:\n{text}",
                self.current_url().await
            );
        }
    }

    /// Runs a Chrome DevTools Protocol command in this session (chromedriver's
    /// `goog/cdp/execute`), for what WebDriver has no command for.
    pub async fn cdp(&self, command: &str, params: Value) -> Value {
        let url = format!(
            "http://127.0.0.1:{}/session/{}/goog/cdp/execute",
            self.driver_port, self.session
        );
        let reply = reqwest::Client::new()
            .post(&url)
            .json(&json!({ "cmd": command, "params": params }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("CDP {command}: {e}"));
        let status = reply.status();
        let body: Value = reply.json().await.unwrap_or_else(|e| panic!("CDP {command}: {e}"));
        assert!(status.is_success(), "CDP {command}: {status} {body}");
        body["value"].clone()
    }

    /// Turns the page's JavaScript off (the pages must work without it). WebDriver's own
    /// scripts (finding elements, axe) still run: they come through DevTools.
    pub async fn disable_javascript(&self) {
        self.cdp("Emulation.setScriptExecutionDisabled", json!({ "value": true }))
            .await;
    }

    /// Gives the browser a virtual authenticator in place of a real one (Chromium's WebAuthn
    /// testing API): a platform authenticator (CTAP2, transport `internal`) that keeps resident
    /// keys, verifies its user and is touched as soon as it is asked. Returns its id.
    pub async fn add_virtual_authenticator(&self) -> String {
        self.cdp("WebAuthn.enable", json!({ "enableUI": false })).await;
        let added = self
            .cdp(
                "WebAuthn.addVirtualAuthenticator",
                json!({ "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": true,
                    "hasUserVerification": true,
                    "isUserVerified": true,
                    "automaticPresenceSimulation": true,
                } }),
            )
            .await;
        added["authenticatorId"]
            .as_str()
            .expect("the virtual authenticator's id")
            .to_owned()
    }

    /// The credentials the virtual authenticator `authenticator` holds (CDP `Credential`s).
    pub async fn authenticator_credentials(&self, authenticator: &str) -> Vec<Value> {
        let held = self
            .cdp("WebAuthn.getCredentials", json!({ "authenticatorId": authenticator }))
            .await;
        held["credentials"].as_array().cloned().unwrap_or_default()
    }

    /// Puts `credentials` (as [`Browser::authenticator_credentials`] gave them, private keys
    /// and all) into `authenticator`.
    pub async fn put_credentials(&self, authenticator: &str, credentials: &[Value]) {
        for credential in credentials {
            self.cdp(
                "WebAuthn.addCredential",
                json!({ "authenticatorId": authenticator, "credential": credential }),
            )
            .await;
        }
    }

    /// Whether the virtual authenticator's user verification (its screen lock) succeeds.
    pub async fn set_user_verified(&self, authenticator: &str, verified: bool) {
        self.cdp(
            "WebAuthn.setUserVerified",
            json!({ "authenticatorId": authenticator, "isUserVerified": verified }),
        )
        .await;
    }

    /// Takes the virtual authenticator away (with its credentials).
    pub async fn remove_virtual_authenticator(&self, authenticator: &str) {
        self.cdp(
            "WebAuthn.removeVirtualAuthenticator",
            json!({ "authenticatorId": authenticator }),
        )
        .await;
    }

    /// Types `value` into the field `css` selects (for a field whose label is not unique).
    pub async fn fill_css(&self, css: &str, value: &str) {
        let field = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("nothing matches {css:?} on {}", self.describe_page_blocking()));
        field.clear().await.expect("clear the field");
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("type into {css:?}: {e}"));
    }

    /// Clicks the element `css` selects without waiting for a page: for buttons whose script
    /// may or may not go on to another page.
    pub async fn press(&self, css: &str) {
        let target = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|_| panic!("nothing matches {css:?} on {}", self.describe_page_blocking()));
        target.click().await.unwrap_or_else(|e| panic!("click {css:?}: {e}"));
    }

    /// Waits (bounded) until the element `css` selects is shown; returns its text.
    pub async fn shown_text(&self, css: &str) -> String {
        let deadline = Instant::now() + PAGE_LOAD;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                if element.is_displayed().await.unwrap_or(false) {
                    return element.text().await.expect("element text");
                }
            }
            if Instant::now() > deadline {
                panic!(
                    "{css:?} was not shown within {PAGE_LOAD:?} on {}",
                    self.describe_page_blocking()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether the element `css` selects is there and shown.
    pub async fn is_shown(&self, css: &str) -> bool {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.is_displayed().await.unwrap_or(false),
            Err(_) => false,
        }
    }

    /// Waits (bounded) until the browser has left `path`, by a script's navigation (no form
    /// post), and the new page has loaded.
    pub async fn wait_to_leave(&self, path: &str) {
        let deadline = Instant::now() + PAGE_LOAD;
        while self.path().await == path {
            if Instant::now() > deadline {
                panic!("still on {path} after {PAGE_LOAD:?}: {}", self.body_text().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        while Instant::now() < deadline {
            if let Ok(Value::String(state)) = self.client.execute("return document.readyState;", vec![]).await {
                if state == "complete" {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Runs `script` (a function body) in the page and returns what it returns.
    pub async fn script(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Saves the viewport as `target/browser-artifacts/<test>/<step>-<viewport>.png`.
    pub async fn screenshot(&self, step: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        save_screenshot(&self.test, step, self.viewport, &png)
    }

    /// What axe-core finds on the current page (every rule axe runs by default).
    pub async fn axe_violations(&self) -> Vec<AxeViolation> {
        let injected = self
            .script(
                &format!("{}\n;return typeof window.axe === 'object';", axe_source()),
                vec![],
            )
            .await;
        assert_eq!(injected, Value::Bool(true), "axe-core did not load into the page");
        let outcome = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 window.axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done({ violations: r.violations }))
                   .catch(e => done({ error: String(e) }));",
                vec![],
            )
            .await
            .unwrap_or_else(|e| panic!("axe.run did not finish: {e}"));
        if let Some(error) = outcome.get("error") {
            panic!("axe.run failed: {error}");
        }
        serde_json::from_value(outcome["violations"].clone()).expect("axe's violations")
    }

    /// Fails listing every axe-core violation (rule id, impact, elements) on the current page.
    /// (The audit of the hosted pages collects over many pages instead; this is for one page.)
    #[allow(dead_code)]
    pub async fn assert_no_axe_violations(&self) {
        let violations = self.axe_violations().await;
        if !violations.is_empty() {
            let url = self.current_url().await;
            let lines: Vec<String> = violations.iter().map(|v| format!("  {v}")).collect();
            panic!(
                "{} axe-core violation(s) on {url} ({}):\n{}",
                violations.len(),
                self.viewport.name(),
                lines.join("\n")
            );
        }
    }

    /// How far the page is wider than the screen, and the elements that stick out; None when
    /// it is not. On a desktop that is `document.scrollingElement.scrollWidth <= innerWidth`;
    /// a phone instead widens its layout viewport to the content (and zooms out), so there
    /// `innerWidth` itself must stay the screen's width.
    pub async fn horizontal_overflow(&self) -> Option<String> {
        let measured = self
            .script(
                "const screenWidth = arguments[0];
                 const width = Math.max(document.scrollingElement.scrollWidth, window.innerWidth);
                 if (width <= screenWidth) return null;
                 const wide = [...document.body.querySelectorAll('*')]
                   .filter(e => e.getBoundingClientRect().right > screenWidth)
                   .slice(0, 8)
                   .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                        + (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : '')
                        + ` (${Math.round(e.getBoundingClientRect().width)}px)`);
                 return `${width}px wide on a ${screenWidth}px screen; sticking out: ${wide.join(', ')}`;",
                vec![Value::from(self.viewport.size().0)],
            )
            .await;
        measured.as_str().map(str::to_owned)
    }

    /// Fails when the current page scrolls sideways (or, on a phone, makes the browser zoom
    /// out to fit it).
    pub async fn no_horizontal_scroll(&self) {
        if let Some(overflow) = self.horizontal_overflow().await {
            panic!(
                "{} scrolls sideways ({}): {overflow}",
                self.current_url().await,
                self.viewport.name()
            );
        }
    }

    /// For failure messages where an await would be awkward: the session's URL, by std alone.
    fn describe_page_blocking(&self) -> String {
        raw_request(self.driver_port, "GET", &format!("/session/{}/url", self.session))
            .ok()
            .and_then(|reply| body_json(&reply))
            .and_then(|v| v["value"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "the current page".into())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let shot = raw_request(
                self.driver_port,
                "GET",
                &format!("/session/{}/screenshot", self.session),
            )
            .ok()
            .and_then(|reply| body_json(&reply))
            .and_then(|v| v["value"].as_str().map(str::to_owned))
            .and_then(|b64| {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.decode(b64).ok()
            });
            if let Some(png) = shot {
                let path = save_screenshot(&self.test, "failure", self.viewport, &png);
                eprintln!("browser: the page at the failure is in {}", path.display());
            }
        }
        // Ends the session and its Chromium, also when the test's runtime is going away.
        let _ = raw_request(self.driver_port, "DELETE", &format!("/session/{}", self.session));
    }
}

fn body_json(reply: &str) -> Option<Value> {
    let (_, body) = reply.split_once("\r\n\r\n")?;
    serde_json::from_str(body).ok()
}

fn save_screenshot(test: &str, step: &str, viewport: Viewport, png: &[u8]) -> PathBuf {
    let dir = artifacts_dir().join(test);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let path = dir.join(format!("{step}-{}.png", viewport.name()));
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// `text` as an XPath 1.0 string literal (which has no escapes).
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// `text` as a CSS string (in double quotes).
fn css_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The password every test person has.
pub const PASSWORD: &str = "correct horse battery staple";

/// A server for a browser: the API suite's, with the same settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Backend::Sqlite, &[]).await
}

/// Makes a person with the command line, as an operator would; returns their id.
pub async fn create_user(app: &TestApp, username: &str) -> String {
    let out = app
        .cli_with_stdin(
            &[
                "user",
                "create",
                "--username",
                username,
                "--email",
                &format!("{username}@example.com"),
                "--claim",
                &format!("name={username} Example"),
                "--password-stdin",
                "--json",
            ],
            &format!("{PASSWORD}\n"),
        )
        .await;
    let user = crate::helpers::stdout_json(&out);
    user["id"].as_str().expect("the new person's id").to_owned()
}

/// A registered confidential client.
pub struct RegisteredClient {
    pub id: String,
    pub secret: String,
    pub redirect_uri: String,
    /// Where the client asks to land after RP-initiated logout (registered).
    pub post_logout_redirect_uri: String,
}

/// Registers a confidential client (code + refresh grants, `openid profile email offline_access`) with the
/// command line. Its redirect URIs (after sign-in and after sign-out) are a loopback port nothing listens on: the browser's last
/// step fails to connect at once, and its address bar still shows where it was sent.
pub async fn register_client(app: &TestApp, name: &str) -> RegisteredClient {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let redirect_uri = format!("http://127.0.0.1:{closed_port}/callback");
    let post_logout_redirect_uri = format!("http://127.0.0.1:{closed_port}/signed-out");
    let mut args = vec!["client", "create", "--name", name, "--type", "confidential"];
    args.extend(["--redirect-uri", &redirect_uri]);
    args.extend(["--post-logout-redirect-uri", &post_logout_redirect_uri]);
    args.extend(["--grant-type", "authorization_code", "--grant-type", "refresh_token"]);
    args.extend(["--scope", "openid", "--scope", "profile", "--scope", "email"]);
    args.extend(["--scope", "offline_access", "--json"]);
    let created = crate::helpers::stdout_json(&app.cli(&args).await);
    RegisteredClient {
        id: created["client_id"].as_str().expect("client_id").to_owned(),
        secret: created["client_secret"].as_str().expect("client_secret").to_owned(),
        redirect_uri,
        post_logout_redirect_uri,
    }
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    use base64::Engine;
    use sha2::Digest;
    let verifier = keyhaven::crypto::tokens::random_base64url(32);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    Pkce { verifier, challenge }
}

/// `/authorize` for `client` with PKCE (S256), `state` and `nonce`.
pub fn authorize_url(app: &TestApp, client: &RegisteredClient, pkce: &Pkce, state: &str, nonce: &str) -> String {
    authorize_url_for(app, client, pkce, state, nonce, "openid profile email")
}

/// `/authorize` as [`authorize_url`], for `scope`.
pub fn authorize_url_for(
    app: &TestApp,
    client: &RegisteredClient,
    pkce: &Pkce,
    state: &str,
    nonce: &str,
    scope: &str,
) -> String {
    let mut url = Url::parse(&format!("{}/authorize", app.address)).expect("url");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", &client.redirect_uri)
        .append_pair("scope", scope)
        .append_pair("state", state)
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256");
    url.into()
}

/// Signs in on the login page the browser is on.
pub async fn sign_in(browser: &Browser, username: &str) {
    sign_in_with(browser, username, PASSWORD).await;
}

/// Signs in on the login page the browser is on with `password` (fields by their names).
pub async fn sign_in_with(browser: &Browser, username: &str, password: &str) {
    assert_eq!(browser.path().await, "/login", "on the sign-in page");
    browser.fill("login", username).await;
    browser.fill("password", password).await;
    browser.submit("/login").await;
}

/// The value of the hidden field `name` in `html`.
fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let value = &html[start..];
    Some(value[..value.find('"')?].to_owned())
}

/// Signs `username` in from another device (a plain HTTP client, no browser); returns its
/// client, which keeps the session's cookie.
pub async fn sign_in_elsewhere(app: &TestApp, username: &str) -> reqwest::Client {
    let device = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("http client");
    let page = device
        .get(format!("{}/login", app.address))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("html");
    let csrf = hidden_field(&page, "csrf_token").expect("a CSRF token on the sign-in page");
    let signed_in = device
        .post(format!("{}/login", app.address))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("login", username),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 303, "the other device signs in");
    device
}

/// The status of `GET /account` for a plain HTTP client: 200 while it is signed in.
pub async fn account_status(app: &TestApp, device: &reqwest::Client) -> u16 {
    device
        .get(format!("{}/account", app.address))
        .send()
        .await
        .expect("account page")
        .status()
        .as_u16()
}

/// The mails in the server's outbox whose text contains `words`, waiting (bounded) for at
/// least `at_least` of them.
pub async fn mails_saying(app: &TestApp, words: &str, at_least: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found: Vec<String> = app.mails().into_iter().filter(|m| m.contains(words)).collect();
        if found.len() >= at_least || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The first link in `mail` that starts with `prefix`.
pub fn link_in(mail: &str, prefix: &str) -> String {
    let start = mail
        .find(prefix)
        .unwrap_or_else(|| panic!("no link {prefix}... in:\n{mail}"));
    mail[start..].split_whitespace().next().expect("a link").to_owned()
}

/// Exchanges `code` (from the browser's last redirect) at the token endpoint.
pub async fn exchange_code(app: &TestApp, client: &RegisteredClient, code: &str, pkce: &Pkce) -> Value {
    token_request(
        app,
        client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &client.redirect_uri),
            ("code_verifier", &pkce.verifier),
        ],
    )
    .await
}

/// A token request of `client`; the JSON answer, with its status as `"status"`.
pub async fn token_request(app: &TestApp, client: &RegisteredClient, form: &[(&str, &str)]) -> Value {
    let response = app
        .http
        .post(format!("{}/token", app.address))
        .basic_auth(&client.id, Some(&client.secret))
        .form(form)
        .send()
        .await
        .expect("token request");
    let status = response.status().as_u16();
    let mut body: Value = response.json().await.expect("JSON");
    body["status"] = Value::from(status);
    body
}

/// The query parameters of the address the browser is at.
pub async fn query_of(browser: &Browser) -> std::collections::HashMap<String, String> {
    browser.current_url().await.query_pairs().into_owned().collect()
}
