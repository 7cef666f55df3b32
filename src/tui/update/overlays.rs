//! What comes back for the overlays: the viewer opened and the bytes or looks it asked for,
//! an info page gathered, the editor opened and its save's outcome, or why one could not open.
//! The reading happened off the render path; here the overlay only takes the result in.

use super::super::dialog::Overlay;
use super::super::editor::{Editor, EditorOutcome, Saved};
use super::super::effect::{Effect, Op};
use super::super::info::InfoPage;
use super::super::model::Model;
use super::super::viewer::{Chunk, Looked, Viewer};

pub(super) fn viewer_opened(
    model: &mut Model,
    mut viewer: Box<Viewer>,
    follow: bool,
) -> Vec<Effect> {
    if follow {
        viewer.set_follow(true);
    }
    let more = viewer.read_request().map(Effect::ViewerRead);
    model.overlay = Some(Overlay::Viewer(viewer));
    model.dirty = true;
    more.into_iter().collect()
}

pub(super) fn viewer_looked(model: &mut Model, looked: Looked) -> Vec<Effect> {
    viewer_news(model, |viewer| viewer.take_look(looked))
}

pub(super) fn viewer_chunk(model: &mut Model, chunk: Chunk) -> Vec<Effect> {
    viewer_news(model, |viewer| {
        viewer.apply(chunk);
        true
    })
}

/// News for the open viewer (a look, a chunk): `apply` says whether the view changed; the
/// viewer then asks for whatever bytes it still needs.
fn viewer_news(model: &mut Model, apply: impl FnOnce(&mut Viewer) -> bool) -> Vec<Effect> {
    let Some(Overlay::Viewer(viewer)) = &mut model.overlay else {
        return Vec::new();
    };
    model.dirty |= apply(viewer);
    viewer
        .read_request()
        .map(Effect::ViewerRead)
        .into_iter()
        .collect()
}

pub(super) fn info_read(model: &mut Model, page: InfoPage) -> Vec<Effect> {
    model.overlay = Some(Overlay::Info { page, scroll: 0 });
    model.dirty = true;
    Vec::new()
}

pub(super) fn editor_opened(model: &mut Model, editor: Box<Editor>) -> Vec<Effect> {
    model.overlay = Some(Overlay::Editor(editor));
    model.dirty = true;
    Vec::new()
}

pub(super) fn open_failed(model: &mut Model, message: String) -> Vec<Effect> {
    model.complain(message);
    Vec::new()
}

/// The editor's save came back: the editor learns how it went; the panes re-list.
pub(super) fn saved(model: &mut Model, result: Result<Saved, String>) -> Vec<Effect> {
    model.dirty = true;
    let Some(Overlay::Editor(editor)) = &mut model.overlay else {
        return Vec::new();
    };
    match result {
        Ok(saved) => {
            let state = saved.item.state;
            let said = format!("saved {}", saved.item.qualified());
            let mut effects = vec![Effect::List(state)];
            if let EditorOutcome::Close = editor.saved(saved) {
                // Saved and closed: the held item goes back, as on any other close.
                effects.extend(
                    editor
                        .take_hold()
                        .map(|hold| Effect::Disk(Op::ReleaseEdit(hold))),
                );
                model.overlay = None;
            }
            model.say(said);
            effects
        }
        Err(message) => {
            editor.save_failed(message);
            Vec::new()
        }
    }
}
