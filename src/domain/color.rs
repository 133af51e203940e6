//! A colour given as `#rrggbb`, and the WCAG 2 arithmetic that keeps text on it readable:
//! relative luminance, contrast ratio, the better of black or white text, and a shade of a
//! colour that reaches a contrast on given backgrounds.

use std::fmt;

/// An sRGB colour, written `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb {
    r: u8,
    g: u8,
    b: u8,
}

pub const BLACK: Rgb = Rgb::new(0, 0, 0);
pub const WHITE: Rgb = Rgb::new(0xff, 0xff, 0xff);

/// WCAG 2 AA for normal text.
pub const AA_TEXT: f64 = 4.5;

impl Rgb {
    pub const fn new(r: u8, g: u8, b: u8) -> Self {
        Self { r, g, b }
    }

    /// `#rrggbb`, hex digits in either case; nothing else (no `#rgb`, no names).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a colour written #rrggbb");
        let hex = text.trim().strip_prefix('#').ok_or_else(bad)?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let channel = |at: usize| {
            hex.get(at..at + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(bad)
        };
        Ok(Self::new(channel(0)?, channel(2)?, channel(4)?))
    }

    /// Relative luminance (WCAG 2): 0 for black, 1 for white.
    pub fn relative_luminance(self) -> f64 {
        let linear = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(self.r) + 0.7152 * linear(self.g) + 0.0722 * linear(self.b)
    }

    /// The contrast ratio of two colours (WCAG 2), from 1 to 21, the same either way round.
    pub fn contrast(self, other: Rgb) -> f64 {
        let (a, b) = (self.relative_luminance(), other.relative_luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// Black or white, whichever contrasts more with this colour as a background. One of
    /// them always reaches 4.5:1 (the worst case, a mid grey, gives about 4.6 for both).
    pub fn contrast_text(self) -> Rgb {
        if self.contrast(BLACK) >= self.contrast(WHITE) {
            BLACK
        } else {
            WHITE
        }
    }

    /// `self` moved a fraction `t` (0 to 1) of the way to `toward`.
    pub fn mix(self, toward: Rgb, t: f64) -> Rgb {
        let t = t.clamp(0.0, 1.0);
        let channel = |a: u8, b: u8| {
            let mixed = f64::from(a) + (f64::from(b) - f64::from(a)) * t;
            // In 0..=255 by construction; the clamp keeps the cast exact.
            mixed.round().clamp(0.0, 255.0) as u8
        };
        Rgb::new(
            channel(self.r, toward.r),
            channel(self.g, toward.g),
            channel(self.b, toward.b),
        )
    }

    /// The shade of this colour nearest to it that has at least `min` contrast with every one
    /// of `backgrounds`, moving toward `toward` (black on light backgrounds, white on dark);
    /// `toward` itself when no shade does.
    pub fn readable_on(self, backgrounds: &[Rgb], toward: Rgb, min: f64) -> Rgb {
        let enough = |c: Rgb| backgrounds.iter().all(|bg| c.contrast(*bg) >= min);
        (0..=100)
            .map(|step| self.mix(toward, f64::from(step) / 100.0))
            .find(|c| enough(*c))
            .unwrap_or(toward)
    }
}

impl fmt::Display for Rgb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{:02x}{:02x}{:02x}", self.r, self.g, self.b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(text: &str) -> Rgb {
        Rgb::parse(text).unwrap()
    }

    #[test]
    fn parses_only_six_hex_digits_after_a_hash() {
        assert_eq!(rgb("#2456C9"), Rgb::new(0x24, 0x56, 0xc9));
        assert_eq!(rgb(" #00ff7f ").to_string(), "#00ff7f");
        for bad in [
            "2456c9",
            "#fff",
            "#2456c",
            "#2456c9a",
            "#gg0000",
            "red",
            "",
            "#",
            "#+12345",
            "#éé0000",
        ] {
            assert!(Rgb::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn contrast_matches_wcag_reference_values() {
        assert!((BLACK.contrast(WHITE) - 21.0).abs() < 1e-9);
        assert!((WHITE.contrast(WHITE) - 1.0).abs() < 1e-9);
        // #767676 on white is the well-known lightest grey that passes AA (4.54:1).
        let grey = rgb("#767676");
        assert!((grey.contrast(WHITE) - 4.54).abs() < 0.01, "{}", grey.contrast(WHITE));
        assert!((WHITE.contrast(grey) - grey.contrast(WHITE)).abs() < 1e-12);
        assert!((rgb("#2456c9").contrast(WHITE) - 6.46).abs() < 0.01);
    }

    #[test]
    fn contrast_text_picks_the_readable_one() {
        assert_eq!(rgb("#2456c9").contrast_text(), WHITE);
        assert_eq!(rgb("#000000").contrast_text(), WHITE);
        assert_eq!(rgb("#ffffff").contrast_text(), BLACK);
        assert_eq!(rgb("#ffd400").contrast_text(), BLACK);
        assert_eq!(rgb("#00a86b").contrast_text(), BLACK);
        assert_eq!(rgb("#c8102e").contrast_text(), WHITE);
    }

    #[test]
    fn contrast_text_always_reaches_aa() {
        // Every grey, and a coarse walk over the whole cube: the chosen text reaches 4.5:1.
        for v in 0..=255u8 {
            let grey = Rgb::new(v, v, v);
            assert!(grey.contrast(grey.contrast_text()) >= AA_TEXT, "{grey}");
        }
        for r in (0..=255u8).step_by(15) {
            for g in (0..=255u8).step_by(15) {
                for b in (0..=255u8).step_by(15) {
                    let c = Rgb::new(r, g, b);
                    assert!(c.contrast(c.contrast_text()) >= AA_TEXT, "{c}");
                }
            }
        }
    }

    #[test]
    fn readable_on_keeps_a_readable_colour_and_shades_an_unreadable_one() {
        let white = [WHITE];
        let blue = rgb("#2456c9");
        assert_eq!(blue.readable_on(&white, BLACK, AA_TEXT), blue);
        let yellow = rgb("#ffd400");
        let shaded = yellow.readable_on(&white, BLACK, AA_TEXT);
        assert_ne!(shaded, yellow);
        assert!(shaded.contrast(WHITE) >= AA_TEXT);
        let dark = [rgb("#1a1f27"), rgb("#0f1318")];
        let lighter = blue.readable_on(&dark, WHITE, AA_TEXT);
        assert!(dark.iter().all(|bg| lighter.contrast(*bg) >= AA_TEXT));
        assert!(dark.iter().any(|bg| blue.contrast(*bg) < AA_TEXT));
        assert_eq!(rgb("#123456").readable_on(&[], BLACK, AA_TEXT), rgb("#123456"));
    }
}
