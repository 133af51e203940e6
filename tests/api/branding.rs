//! Brandable hosted pages (issue 12, point 2): the `brand_*` settings put a name, a logo, a
//! primary colour and an extra stylesheet on the pages and the name in the mail; bad brand
//! files or colours stop the server at start; without them the pages are Keyhaven's.

use std::path::{Path, PathBuf};

use reqwest::header::HeaderMap;

use crate::flow::PASSWORD;
use crate::helpers::{random_kek, run_binary, spawn_app, spawn_app_with, Backend, TestApp};

/// The first bytes of a PNG: the server knows a PNG by them alone.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

/// An SVG with a script in it: harmless in an `<img>`, dangerous opened alone without a CSP.
const SVG_WITH_SCRIPT: &str = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 10 10\"><script>alert(1)</script><rect width=\"10\" height=\"10\" fill=\"#c8102e\"/></svg>\n";

const PAGE_IMG_SRC: &str = "img-src 'self' data:";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write brand file");
    path
}

async fn page(app: &TestApp, path: &str) -> (HeaderMap, String) {
    let response = app.get_url(path).await;
    assert_eq!(response.status(), 200, "{path}");
    let headers = response.headers().clone();
    (headers, response.text().await.unwrap())
}

fn title(html: &str) -> &str {
    let start = html.find("<title>").expect("a title") + "<title>".len();
    let end = html.get(start..).unwrap().find("</title>").expect("title closed");
    html.get(start..start + end).unwrap()
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn default_pages_say_keyhaven_and_have_no_brand_files() {
    let app = spawn_app(Backend::Sqlite).await;
    let (_, html) = page(&app, "/reset").await;
    assert_eq!(title(&html), "Reset your password · Keyhaven");
    assert!(html.contains("<p class=\"brand\">Keyhaven</p>"), "{html}");
    assert!(
        html.contains("<meta name=\"color-scheme\" content=\"light dark\">"),
        "{html}"
    );
    assert!(!html.contains("/static/brand"), "no brand file is linked: {html}");
    for path in ["/static/brand-logo", "/static/brand.css", "/static/brand-extra.css"] {
        assert_eq!(app.get_url(path).await.status(), 404, "{path}");
    }
    // The positive control of the 404s: the built-in stylesheet is there, with its dark mode.
    let css = app.get_url("/static/keyhaven.css").await;
    assert_eq!(css.status(), 200);
    let css = css.text().await.unwrap();
    assert!(css.contains("@media (prefers-color-scheme: dark)"), "{css}");
    assert!(css.contains("var(--primary)"), "{css}");

    app.create_user("alice").await;
    app.request_reset("alice@example.com").await;
    let mail = app.wait_for_mails_about("Reset your Keyhaven password", 1).await;
    assert!(mail[0].contains("From: Keyhaven <no-reply@127.0.0.1>"), "{}", mail[0]);
}

#[tokio::test]
async fn the_brand_name_is_in_the_header_the_titles_and_the_mail() {
    let app = spawn_app_with(Backend::Sqlite, &[("brand_name", "Acme ID")]).await;
    for (path, expected) in [
        ("/reset", "Reset your password · Acme ID"),
        ("/login", "Sign in · Acme ID"),
    ] {
        let (_, html) = page(&app, path).await;
        assert_eq!(title(&html), expected, "{path}");
        assert!(html.contains("<p class=\"brand\">Acme ID</p>"), "{path}: {html}");
        assert!(!html.contains("Keyhaven"), "{path}: {html}");
    }
    // An error page too (an unknown path asked for by a browser).
    let missing = app
        .http
        .get(format!("{}/nowhere", app.address))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let html = missing.text().await.unwrap();
    assert!(title(&html).ends_with(" · Acme ID"), "{html}");
    assert!(!html.contains("Keyhaven"), "{html}");

    app.create_user("alice").await;
    app.request_reset("alice@example.com").await;
    let mail = app.wait_for_mails_about("Reset your Acme ID password", 1).await;
    // lettre quotes a name with a space in the header.
    let from = mail[0].lines().find(|l| l.starts_with("From:")).unwrap();
    assert_eq!(from, "From: \"Acme ID\" <no-reply@127.0.0.1>", "{}", mail[0]);
    assert!(app.mails_about("Keyhaven").is_empty());

    // Signed in, the header's sign-out button names the brand too.
    let signed_in = app.submit_login("/login", "alice", PASSWORD).await;
    assert_eq!(signed_in.status(), 303);
    let (_, account) = page(&app, "/account").await;
    assert!(account.contains("Sign out of Acme ID"), "{account}");
    assert_eq!(title(&account), "Profile – Acme ID");
}

#[tokio::test]
async fn a_logo_is_served_with_its_type_and_shown_with_the_brand_as_alt_text() {
    let files = tempfile::tempdir().unwrap();
    let logo = write(files.path(), "logo.png", PNG);
    let logo = logo.to_str().unwrap();
    let app = spawn_app_with(Backend::Sqlite, &[("brand_name", "Acme ID"), ("brand_logo", logo)]).await;

    let served = app.get_url("/static/brand-logo").await;
    assert_eq!(served.status(), 200);
    let headers = served.headers().clone();
    assert_eq!(header(&headers, "content-type"), "image/png");
    assert_eq!(header(&headers, "cache-control"), "public, max-age=3600");
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);

    let (page_headers, html) = page(&app, "/reset").await;
    assert!(
        html.contains("<img class=\"brand-logo\" src=\"/static/brand-logo\" alt=\"Acme ID\">"),
        "{html}"
    );
    // The pages' CSP is unchanged: the logo is our own file.
    let csp = header(&page_headers, "content-security-policy");
    assert!(csp.contains(PAGE_IMG_SRC), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}

#[tokio::test]
async fn an_svg_logo_is_served_under_a_csp_that_runs_nothing() {
    let files = tempfile::tempdir().unwrap();
    let svg = write(files.path(), "logo.svg", SVG_WITH_SCRIPT.as_bytes());
    let png = write(files.path(), "logo.png", PNG);
    let svg_app = spawn_app_with(Backend::Sqlite, &[("brand_logo", svg.to_str().unwrap())]).await;
    let png_app = spawn_app_with(Backend::Sqlite, &[("brand_logo", png.to_str().unwrap())]).await;

    let served = svg_app.get_url("/static/brand-logo").await;
    assert_eq!(served.status(), 200);
    let headers = served.headers().clone();
    assert_eq!(header(&headers, "content-type"), "image/svg+xml");
    assert_eq!(
        header(&headers, "content-security-policy"),
        "default-src 'none'; style-src 'unsafe-inline'"
    );
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(served.text().await.unwrap(), SVG_WITH_SCRIPT);
    let (_, html) = page(&svg_app, "/reset").await;
    assert!(html.contains("alt=\"Keyhaven\""), "{html}");

    // The control: a PNG logo is served as it is, without the SVG's policy.
    let served = png_app.get_url("/static/brand-logo").await;
    assert_eq!(served.status(), 200);
    assert_eq!(header(served.headers(), "content-type"), "image/png");
    assert!(served.headers().get("content-security-policy").is_none());
}

#[tokio::test]
async fn brand_css_carries_the_colour_and_the_extra_stylesheet_comes_after_ours() {
    let files = tempfile::tempdir().unwrap();
    let extra = ".card { border-width: 3px; }\n";
    let extra_path = write(files.path(), "extra.css", extra.as_bytes());
    let app = spawn_app_with(
        Backend::Sqlite,
        &[
            ("brand_primary_color", "#FFD400"),
            ("brand_stylesheet", extra_path.to_str().unwrap()),
        ],
    )
    .await;

    let css = app.get_url("/static/brand.css").await;
    assert_eq!(css.status(), 200);
    assert_eq!(header(css.headers(), "content-type"), "text/css; charset=utf-8");
    assert_eq!(header(css.headers(), "cache-control"), "public, max-age=3600");
    let css = css.text().await.unwrap();
    assert!(css.contains("--primary: #ffd400;"), "{css}");
    // Yellow takes black text, and a darker shade of it for text on the light card.
    assert!(css.contains("--primary-contrast: #000000;"), "{css}");
    let light = css.lines().find(|l| l.starts_with(":root")).unwrap();
    assert!(!light.contains("--primary-text: #ffd400;"), "{css}");
    assert!(css.contains("prefers-color-scheme: dark"), "{css}");

    let served = app.get_url("/static/brand-extra.css").await;
    assert_eq!(served.status(), 200);
    assert_eq!(header(served.headers(), "content-type"), "text/css; charset=utf-8");
    assert_eq!(served.text().await.unwrap(), extra);

    let (_, html) = page(&app, "/reset").await;
    let ours = html.find("/static/keyhaven.css").expect("our stylesheet");
    let brand = html.find("/static/brand.css").expect("brand.css linked");
    let theirs = html.find("/static/brand-extra.css").expect("extra stylesheet linked");
    assert!(ours < brand && brand < theirs, "{html}");
    // No logo set: none shown, none served.
    assert!(!html.contains("brand-logo"), "{html}");
    assert_eq!(app.get_url("/static/brand-logo").await.status(), 404);
}

#[tokio::test]
async fn a_logo_of_exactly_256_kib_is_accepted() {
    let files = tempfile::tempdir().unwrap();
    let mut bytes = PNG.to_vec();
    bytes.resize(256 * 1024, 0);
    let logo = write(files.path(), "big.png", &bytes);
    let app = spawn_app_with(Backend::Sqlite, &[("brand_logo", logo.to_str().unwrap())]).await;
    let served = app.get_url("/static/brand-logo").await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.unwrap().len(), 256 * 1024);
}

#[test]
fn bad_brand_files_and_colours_refuse_to_start_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let gif = write(root, "logo.gif", b"GIF89a\x01\0\x01\0\0\0\0;");
    let html = write(root, "logo.html", b"<html><svg></svg><script>alert(1)</script></html>");
    let mut big = PNG.to_vec();
    big.resize(256 * 1024 + 1, 0);
    let big_png = write(root, "big.png", &big);
    let big_css = write(root, "big.css", &vec![b' '; 256 * 1024 + 1]);
    let not_utf8_css = write(root, "latin1.css", b"/* caf\xe9 */");
    let missing = root.join("missing.png");
    let good_png = write(root, "good.png", PNG);
    let good_css = write(root, "good.css", b".card { border-width: 3px; }");
    let db = format!("sqlite://{}/db/keyhaven.db", root.display());
    let kek = random_kek();
    let path = |p: &Path| p.display().to_string();

    let cases: Vec<(&str, String, &str)> = vec![
        ("KEYHAVEN_BRAND_LOGO", path(&gif), "is not a PNG, SVG or WebP image"),
        ("KEYHAVEN_BRAND_LOGO", path(&html), "is not a PNG, SVG or WebP image"),
        ("KEYHAVEN_BRAND_LOGO", path(&big_png), "larger than 256 KiB"),
        ("KEYHAVEN_BRAND_LOGO", path(&missing), "cannot read"),
        ("KEYHAVEN_BRAND_STYLESHEET", path(&big_css), "larger than 256 KiB"),
        ("KEYHAVEN_BRAND_STYLESHEET", path(&not_utf8_css), "not UTF-8"),
        ("KEYHAVEN_BRAND_PRIMARY_COLOR", "blue".into(), "#rrggbb"),
        ("KEYHAVEN_BRAND_PRIMARY_COLOR", "#fff".into(), "#rrggbb"),
        ("KEYHAVEN_BRAND_NAME", "".into(), "must not be empty"),
    ];
    for (variable, value, why) in &cases {
        let setting = variable.trim_start_matches("KEYHAVEN_").to_lowercase();
        let vars = vec![
            ("KEYHAVEN_DATABASE_URL".to_owned(), db.clone()),
            ("KEYHAVEN_KEK".to_owned(), kek.clone()),
            ("KEYHAVEN_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
            ((*variable).to_owned(), value.clone()),
        ];
        let out = run_binary(root.to_path_buf(), &vars, &["serve"], "");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{variable}={value}: {stderr}");
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{variable}={value}: {stderr}");
        assert!(lines[0].contains(&format!("`{setting}` ({variable})")), "{stderr}");
        assert!(lines[0].contains(why), "{variable}={value}: {stderr}");
    }

    // The control: the same start with good brand settings gets past every brand check. It
    // stops on purpose at the next one, the KEK, which is read after the brand files.
    let vars = vec![
        ("KEYHAVEN_DATABASE_URL".to_owned(), db.clone()),
        ("KEYHAVEN_KEK".to_owned(), "too-short".to_owned()),
        ("KEYHAVEN_LISTEN".to_owned(), "127.0.0.1:0".to_owned()),
        ("KEYHAVEN_BRAND_NAME".to_owned(), "Acme ID".to_owned()),
        ("KEYHAVEN_BRAND_LOGO".to_owned(), path(&good_png)),
        ("KEYHAVEN_BRAND_PRIMARY_COLOR".to_owned(), "#c8102e".to_owned()),
        ("KEYHAVEN_BRAND_STYLESHEET".to_owned(), path(&good_css)),
    ];
    let out = run_binary(root.to_path_buf(), &vars, &["serve"], "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`kek`"), "{stderr}");
    assert!(!stderr.contains("brand"), "{stderr}");
}
