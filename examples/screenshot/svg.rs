//! A vt100 screen as SVG: one rectangle per background run, one text element per run of cells
//! with the same style, placed on a fixed grid so the picture is exactly what the terminal shows.

use std::fmt::Write;

const CELL_WIDTH: f32 = 8.4;
const CELL_HEIGHT: f32 = 17.0;
const FONT_SIZE: f32 = 14.0;
const DEFAULT_FG: (u8, u8, u8) = (0xd0, 0xd0, 0xd0);
const DEFAULT_BG: (u8, u8, u8) = (0x12, 0x12, 0x12);

#[derive(Clone, Copy, PartialEq)]
struct Look {
    fg: (u8, u8, u8),
    bg: (u8, u8, u8),
    bold: bool,
    underline: bool,
}

fn look(cell: &vt100::Cell) -> Look {
    let mut fg = colour(cell.fgcolor(), DEFAULT_FG);
    let mut bg = colour(cell.bgcolor(), DEFAULT_BG);
    if cell.inverse() {
        std::mem::swap(&mut fg, &mut bg);
    }
    Look {
        fg,
        bg,
        bold: cell.bold(),
        underline: cell.underline(),
    }
}

/// The xterm 256-colour palette.
fn colour(colour: vt100::Color, default: (u8, u8, u8)) -> (u8, u8, u8) {
    const BASE: [(u8, u8, u8); 16] = [
        (0x00, 0x00, 0x00),
        (0xcd, 0x00, 0x00),
        (0x00, 0xcd, 0x00),
        (0xcd, 0xcd, 0x00),
        (0x00, 0x00, 0xee),
        (0xcd, 0x00, 0xcd),
        (0x00, 0xcd, 0xcd),
        (0xe5, 0xe5, 0xe5),
        (0x7f, 0x7f, 0x7f),
        (0xff, 0x00, 0x00),
        (0x00, 0xff, 0x00),
        (0xff, 0xff, 0x00),
        (0x5c, 0x5c, 0xff),
        (0xff, 0x00, 0xff),
        (0x00, 0xff, 0xff),
        (0xff, 0xff, 0xff),
    ];
    match colour {
        vt100::Color::Default => default,
        vt100::Color::Rgb(r, g, b) => (r, g, b),
        vt100::Color::Idx(i) if i < 16 => BASE[usize::from(i)],
        vt100::Color::Idx(i) if i < 232 => {
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            let i = i - 16;
            (level(i / 36), level(i / 6 % 6), level(i % 6))
        }
        vt100::Color::Idx(i) => {
            let grey = 8 + (i - 232) * 10;
            (grey, grey, grey)
        }
    }
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The whole screen as an SVG document.
pub fn render(screen: &vt100::Screen) -> String {
    let (rows, cols) = screen.size();
    let (rows, cols) = (rows.get(), cols.get());
    let width = f32::from(cols) * CELL_WIDTH;
    let height = f32::from(rows) * CELL_HEIGHT;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\">\n<rect width=\"100%\" height=\"100%\" fill=\"{}\"/>\n\
         <g font-family=\"DejaVu Sans Mono, WenQuanYi Micro Hei Mono, Noto Sans Mono CJK JP, monospace\" font-size=\"{FONT_SIZE}\" \
         xml:space=\"preserve\">\n",
        hex(DEFAULT_BG)
    );
    for row in 0..rows {
        let mut col = 0;
        while col < cols {
            let Some(cell) = screen.cell(row, col) else {
                break;
            };
            let style = look(cell);
            let wide = cell.is_wide();
            // A run: cells of one look, all narrow (a wide cell is a run of its own).
            let mut text = String::new();
            let mut end = col;
            while end < cols {
                let Some(next) = screen.cell(row, end) else {
                    break;
                };
                if look(next) != style || (end > col && (wide || next.is_wide())) {
                    break;
                }
                let contents = next.contents();
                text.push_str(if contents.is_empty() { " " } else { contents });
                end += if next.is_wide() { 2 } else { 1 };
                if wide {
                    break;
                }
            }
            let x = f32::from(col) * CELL_WIDTH;
            let y = f32::from(row) * CELL_HEIGHT;
            let run_width = f32::from(end - col) * CELL_WIDTH;
            if style.bg != DEFAULT_BG {
                let _ = writeln!(
                    svg,
                    "<rect x=\"{x}\" y=\"{y}\" width=\"{run_width}\" height=\"{CELL_HEIGHT}\" \
                     fill=\"{}\"/>",
                    hex(style.bg)
                );
            }
            if !text.trim().is_empty() {
                let weight = if style.bold {
                    " font-weight=\"bold\""
                } else {
                    ""
                };
                let underline = if style.underline {
                    " text-decoration=\"underline\""
                } else {
                    ""
                };
                let _ = writeln!(
                    svg,
                    "<text x=\"{x}\" y=\"{}\" fill=\"{}\" textLength=\"{run_width}\" \
                     lengthAdjust=\"spacingAndGlyphs\"{weight}{underline}>{}</text>",
                    y + CELL_HEIGHT * 0.78,
                    hex(style.fg),
                    escape(&text)
                );
            }
            col = end.max(col + 1);
        }
    }
    svg.push_str("</g>\n</svg>\n");
    svg
}
