//! The Socket.IO defects: the packets the server writes, rewritten.

use crate::{Mutant, Settings};
use serde_json::{Map, Value};
use sio_codec::socketio::{self, OutFrame};
use sio_codec::{Protocol, Utf8Bytes};

/// Whether the mutant rewrites the Socket.IO packets the server sends.
fn rewrites_socketio(settings: &Settings) -> bool {
    matches!(
        settings.mutant,
        Mutant::ConnectReplyWithoutSid
            | Mutant::AuthBeforeConnectReply
            | Mutant::ConnectErrorString
            | Mutant::V4ErrorObject
            | Mutant::AckDataNotArray
            | Mutant::AttachmentCountOffByOne
            | Mutant::NamespaceNotElided
            | Mutant::JsonWithSpaces
            | Mutant::AcksRoutedToMain
    )
}

/// The Socket.IO connection's messages, as the mutant writes them.
pub(crate) fn socketio_out(settings: &Settings, protocol: Protocol, frames: &mut [OutFrame]) {
    if !rewrites_socketio(settings) {
        return;
    }
    for frame in frames.iter_mut() {
        if let OutFrame::Text(text) = frame
            && let Some(rewritten) = socketio_packet(settings, protocol, text)
        {
            *text = Utf8Bytes::from(rewritten);
        }
    }
    // The `auth` event goes out before the CONNECT reply it follows.
    if settings.has(Mutant::AuthBeforeConnectReply)
        && let Some(reply) = frames.iter().position(
            |frame| matches!(frame, OutFrame::Text(text) if text.as_str().starts_with('0')),
        )
        && reply + 1 < frames.len()
    {
        frames.swap(reply, reply + 1);
    }
}

/// One packet text, rewritten (`None`: unchanged).
fn socketio_packet(settings: &Settings, protocol: Protocol, text: &Utf8Bytes) -> Option<String> {
    use socketio::PacketType as Sio;
    let buf = protocol.decode_socketio(text).ok()?;
    let packet = buf.as_packet();
    let kind = packet.packet_type();
    let mut namespace = packet.namespace().as_str().to_owned();
    let mut attachments = packet.attachments();
    let id = packet.id().map(|id| id.get());
    let mut data = packet.data().map(|data| data.as_str().to_owned());
    let v4 = protocol.socketio() == sio_codec::SocketIo::V4;
    let json = |value: &Value| socketio::to_js_json(value).ok();
    match (settings.mutant, kind) {
        (Mutant::ConnectReplyWithoutSid, Sio::Connect) if !v4 => data = None,
        (Mutant::ConnectErrorString, Sio::ConnectError) if !v4 => {
            let value: Value = serde_json::from_str(data.as_deref()?).ok()?;
            data = Some(json(value.get("message")?)?);
        }
        (Mutant::V4ErrorObject, Sio::ConnectError) if v4 => {
            let message: Value = serde_json::from_str(data.as_deref()?).ok()?;
            data = Some(json(&serde_json::json!({ "message": message }))?);
        }
        (Mutant::AckDataNotArray, Sio::Ack | Sio::BinaryAck) => {
            let Value::Array(items) = serde_json::from_str(data.as_deref()?).ok()? else {
                return None;
            };
            let object: Map<String, Value> = items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v))
                .collect();
            data = Some(json(&Value::Object(object))?);
        }
        (Mutant::AttachmentCountOffByOne, _) => attachments = Some(attachments? + 1),
        (Mutant::NamespaceNotElided, _) if namespace == "/" => namespace = "/,".into(),
        (Mutant::JsonWithSpaces, _) => {
            let value: Value = serde_json::from_str(data.as_deref()?).ok()?;
            data = Some(serde_json::to_string_pretty(&value).ok()?);
        }
        (Mutant::AcksRoutedToMain, Sio::Ack | Sio::BinaryAck) => namespace = "/".into(),
        _ => return None,
    }
    // `<type>[<attachments>-][<namespace>,][<id>][<data>]`, `/` left out.
    let mut out = String::new();
    out.push(kind.digit() as char);
    if let Some(count) = attachments {
        out.push_str(&format!("{count}-"));
    }
    match namespace.as_str() {
        "/" => {}
        "/," => out.push_str("/,"),
        other => {
            out.push_str(other);
            out.push(',');
        }
    }
    if let Some(id) = id {
        out.push_str(&id.to_string());
    }
    out.push_str(data.as_deref().unwrap_or(""));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sio_codec::EngineIo;

    fn settings(mutant: Mutant) -> Settings {
        Settings::with_mutant(mutant)
    }

    fn sio(mutant: Mutant, protocol: Protocol, texts: &[&str]) -> Vec<String> {
        let mut frames: Vec<OutFrame> = texts
            .iter()
            .map(|t| OutFrame::Text(Utf8Bytes::from(*t)))
            .collect();
        socketio_out(&settings(mutant), protocol, &mut frames);
        frames
            .iter()
            .map(|f| match f {
                OutFrame::Text(t) => t.as_str().to_owned(),
                OutFrame::Binary(b) => format!("<{}>", b.len()),
            })
            .collect()
    }

    #[test]
    fn socketio_defects_rewrite_the_packets() {
        let v5 = Protocol::new(EngineIo::V4);
        let v4 = Protocol::new(EngineIo::V3);
        let clean = [r#"0/custom,{"sid":"x"}"#, r#"2/custom,["auth",{}]"#];
        assert_eq!(sio(Mutant::None, v5, &clean), clean);
        assert_eq!(
            sio(Mutant::ConnectReplyWithoutSid, v5, &clean),
            ["0/custom,", r#"2/custom,["auth",{}]"#]
        );
        assert_eq!(
            sio(Mutant::AuthBeforeConnectReply, v5, &clean),
            [clean[1], clean[0]]
        );
        assert_eq!(
            sio(Mutant::ConnectErrorString, v5, &[r#"4{"message":"no"}"#]),
            [r#"4"no""#]
        );
        assert_eq!(
            sio(Mutant::V4ErrorObject, v4, &[r#"4/x,"no""#]),
            [r#"4/x,{"message":"no"}"#]
        );
        assert_eq!(
            sio(Mutant::AckDataNotArray, v5, &[r#"3/custom,7["a",1]"#]),
            [r#"3/custom,7{"0":"a","1":1}"#]
        );
        assert_eq!(
            sio(
                Mutant::AttachmentCountOffByOne,
                v5,
                &[r#"51-["a",{"_placeholder":true,"num":0}]"#]
            ),
            [r#"52-["a",{"_placeholder":true,"num":0}]"#]
        );
        assert_eq!(
            sio(Mutant::NamespaceNotElided, v5, &[r#"2["auth",{}]"#]),
            [r#"2/,["auth",{}]"#]
        );
        assert_eq!(
            sio(Mutant::JsonWithSpaces, v5, &[r#"2["auth",{}]"#]),
            ["2[\n  \"auth\",\n  {}\n]"]
        );
        assert_eq!(
            sio(Mutant::AcksRoutedToMain, v5, &[r#"3/custom,7["a"]"#]),
            [r#"37["a"]"#]
        );
    }
}
