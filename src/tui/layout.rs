//! Where everything goes on a screen of a given size. One pure function shared by render and by
//! update (page sizes, mouse hits), so they can never disagree. Small screens lose parts in a
//! fixed order (workers panel, header, message line, second pane, columns) instead of breaking.

use ratatui::layout::Rect;

/// The screen's parts; an empty `Rect` means "not shown".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Areas {
    pub header: Rect,
    /// The two panes (index as in `Model::panes`); in a narrow terminal only the active one
    /// has room and the other is empty.
    pub panes: [Rect; 2],
    pub workers: Rect,
    pub message: Rect,
    pub keybar: Rect,
}

/// The rows used by one pane: its list and the lines around it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PaneAreas {
    pub columns: Rect,
    pub list: Rect,
    pub status: Rect,
}

/// Below this a pane has no column header or status line.
const ROOMY: u16 = 8;

pub fn areas(width: u16, height: u16, active: usize, workers_rows: Option<u16>) -> Areas {
    let full = Rect::new(0, 0, width, height);
    if width < 10 || height < 3 {
        return Areas {
            panes: pane_slots(full, active, false),
            ..Areas::default()
        };
    }
    let header_rows = match height {
        0..8 => 0,
        8..14 => 1,
        _ => 2,
    };
    let message_rows = u16::from(height >= 10);
    let keybar_rows = 1;
    let mut body = Rect::new(
        0,
        header_rows,
        width,
        height - header_rows - message_rows - keybar_rows,
    );
    let mut workers = Rect::default();
    if let Some(rows) = workers_rows
        && body.height >= 12
    {
        let rows = (rows + 3).clamp(4, body.height / 2);
        workers = Rect::new(0, body.bottom() - rows, width, rows);
        body.height -= rows;
    }
    Areas {
        header: Rect::new(0, 0, width, header_rows),
        panes: pane_slots(body, active, width >= 60),
        workers,
        message: Rect::new(0, height - keybar_rows - message_rows, width, message_rows),
        keybar: Rect::new(0, height - keybar_rows, width, keybar_rows),
    }
}

fn pane_slots(body: Rect, active: usize, both: bool) -> [Rect; 2] {
    if both {
        let left = body.width / 2;
        [
            Rect::new(body.x, body.y, left, body.height),
            Rect::new(body.x + left, body.y, body.width - left, body.height),
        ]
    } else {
        let mut slots = [Rect::default(); 2];
        slots[active.min(1)] = body;
        slots
    }
}

/// Inside a pane's border: column header, list, status line.
pub fn pane_areas(pane: Rect) -> PaneAreas {
    let inner = Rect::new(
        pane.x.saturating_add(1),
        pane.y.saturating_add(1),
        pane.width.saturating_sub(2),
        pane.height.saturating_sub(2),
    );
    if pane.height < ROOMY {
        return PaneAreas {
            list: inner,
            ..PaneAreas::default()
        };
    }
    PaneAreas {
        columns: Rect::new(inner.x, inner.y, inner.width, 1),
        list: Rect::new(inner.x, inner.y + 1, inner.width, inner.height - 2),
        status: Rect::new(inner.x, inner.bottom() - 1, inner.width, 1),
    }
}

/// Rows of items pane `index` shows on a screen of `size`.
pub fn list_height(
    size: (u16, u16),
    active: usize,
    workers_rows: Option<u16>,
    index: usize,
) -> usize {
    let areas = areas(size.0, size.1, active, workers_rows);
    usize::from(pane_areas(areas.panes[index]).list.height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_80x24() {
        let a = areas(80, 24, 0, None);
        assert_eq!(a.header.height, 2);
        assert_eq!(a.panes[0], Rect::new(0, 2, 40, 20));
        assert_eq!(a.panes[1], Rect::new(40, 2, 40, 20));
        assert_eq!(a.message.y, 22);
        assert_eq!(a.keybar.y, 23);
        assert_eq!(pane_areas(a.panes[0]).list.height, 16);
    }

    #[test]
    fn narrow_screens_show_the_active_pane_only() {
        let a = areas(40, 10, 1, None);
        assert_eq!(a.panes[0], Rect::default());
        assert_eq!(a.panes[1].width, 40);
        for (w, h) in [(0, 0), (1, 1), (5, 2), (12, 3), (40, 10), (20, 7)] {
            let a = areas(w, h, 0, Some(3));
            for r in [
                a.header, a.panes[0], a.panes[1], a.message, a.keybar, a.workers,
            ] {
                assert!(
                    r.right() <= w.max(r.x) && r.bottom() <= h.max(r.y),
                    "{w}x{h}: {r:?}"
                );
            }
        }
    }
}
