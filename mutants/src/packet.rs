//! Socket.IO packets the server writes: event and ack arguments with their binary
//! attachments, encoded like the reference (placeholders renumbered in walk order, `/` left
//! out, binary types when there are attachments), or with the defect of the mutant.

use super::Mutant;
use super::settings::Settings;
use bytes::Bytes;
use serde_json::{Map, Value};
use sio_codec::{
    DecodeConfig,
    engineio::{self, PacketBuf},
    socketio::{self, AckId, Namespace, PacketType, RawJson},
};

/// The arguments of an event or ack: JSON values whose binary leaves are placeholders into
/// `attachments` (only for packets that arrived as binary packets; a placeholder-shaped
/// object in a plain EVENT stays an object).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Args {
    pub(crate) values: Vec<Value>,
    attachments: Vec<Bytes>,
    binary: bool,
}

impl Args {
    /// Plain JSON arguments.
    pub(crate) fn new(values: Vec<Value>) -> Self {
        Self {
            values,
            ..Self::default()
        }
    }

    /// The arguments of a received packet: its JSON array payload (`None` when there is no
    /// array), with the packet's attachments.
    pub(crate) fn from_packet(
        packet: &socketio::Packet<'_>,
        attachments: &[Bytes],
    ) -> Option<Self> {
        let values: Vec<Value> = serde_json::from_str(packet.data()?.as_str()).ok()?;
        Some(Self {
            values,
            attachments: attachments.to_vec(),
            binary: packet.attachments().is_some(),
        })
    }

    /// The first argument, if it is a string.
    pub(crate) fn first_str(&self) -> Option<&str> {
        self.values.first().and_then(Value::as_str)
    }

    /// Without the first argument.
    pub(crate) fn rest(&self) -> Self {
        Self {
            values: self.values.iter().skip(1).cloned().collect(),
            ..self.clone()
        }
    }

    /// With `value` in front.
    pub(crate) fn prepend(&self, value: Value) -> Self {
        let mut args = self.clone();
        args.values.insert(0, value);
        args
    }
}

/// A packet to send.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outgoing {
    kind: PacketType,
    nsp: String,
    id: Option<u64>,
    data: Option<Value>,
    /// Where the placeholders of `data` point.
    attachments: Vec<Bytes>,
    binary: bool,
}

impl Outgoing {
    fn new(kind: PacketType, nsp: &str, id: Option<u64>, data: Option<Value>) -> Self {
        Self {
            kind,
            nsp: nsp.to_owned(),
            id,
            data,
            attachments: Vec::new(),
            binary: false,
        }
    }

    /// CONNECT (the server's reply), with an optional payload.
    pub(crate) fn connect(nsp: &str, data: Option<Value>) -> Self {
        Self::new(PacketType::Connect, nsp, None, data)
    }

    /// DISCONNECT.
    pub(crate) fn disconnect(nsp: &str) -> Self {
        Self::new(PacketType::Disconnect, nsp, None, None)
    }

    /// CONNECT_ERROR (v4: ERROR) with its payload.
    pub(crate) fn connect_error(nsp: &str, data: Value) -> Self {
        Self::new(PacketType::ConnectError, nsp, None, Some(data))
    }

    /// EVENT `name` with `args` (BINARY_EVENT when they carry attachments).
    pub(crate) fn event(nsp: &str, name: &str, args: &Args, id: Option<u64>) -> Self {
        let mut values = Vec::with_capacity(args.values.len() + 1);
        values.push(Value::from(name));
        values.extend(args.values.iter().cloned());
        Self {
            attachments: args.attachments.clone(),
            binary: args.binary,
            ..Self::new(PacketType::Event, nsp, id, Some(Value::Array(values)))
        }
    }

    /// ACK of `id` with `args` (BINARY_ACK when they carry attachments).
    pub(crate) fn ack(nsp: &str, id: u64, args: &Args) -> Self {
        Self {
            attachments: args.attachments.clone(),
            binary: args.binary,
            ..Self::new(
                PacketType::Ack,
                nsp,
                Some(id),
                Some(Value::Array(args.values.clone())),
            )
        }
    }

    /// The Engine.IO messages: the packet text, then one binary message per attachment.
    /// Empty (and reported on stderr) if the packet cannot be encoded.
    pub(crate) fn frames(&self, settings: &Settings) -> Vec<PacketBuf> {
        let mut data = self.data.clone();
        let mut attachments = Vec::new();
        if self.binary
            && let Some(data) = &mut data
        {
            let inline = settings.has(Mutant::PlaceholdersNotUsed);
            renumber(data, &self.attachments, &mut attachments, inline);
        }
        let Some(text) = self.text(data.as_ref(), attachments.len(), settings) else {
            eprintln!("mutant server: cannot encode {self:?}");
            return Vec::new();
        };
        let mut frames = vec![PacketBuf::from(&engineio::Packet::text(&text))];
        frames.extend(attachments.into_iter().map(PacketBuf::from_binary_frame));
        frames
    }

    /// The packet text, through the codec's encoder, then the mutant's defect.
    fn text(&self, data: Option<&Value>, count: usize, settings: &Settings) -> Option<String> {
        let json = match data {
            None => None,
            Some(value) if settings.has(Mutant::JsonWithSpaces) => {
                Some(serde_json::to_string_pretty(value).ok()?)
            }
            Some(value) => Some(socketio::to_js_json(value).ok()?),
        };
        let kind = match (self.kind, count) {
            (PacketType::Event, 1..) => PacketType::BinaryEvent,
            (PacketType::Ack, 1..) => PacketType::BinaryAck,
            (kind, _) => kind,
        };
        let raw = json.as_deref().map(RawJson::new).transpose().ok()?;
        let id = self.id.and_then(AckId::new);
        // Protocol v4 rules: the widest payload shapes (a string ERROR, any event name).
        let config = DecodeConfig::socketio_v4().max_attachments(u32::MAX);
        let count = u32::try_from(count).ok()?;
        let nsp = Namespace::new(&self.nsp).ok()?;
        let packet = socketio::Packet::new_with(kind, nsp, id, raw, count, &config).ok()?;
        let mut text = packet.to_text().as_str().to_owned();
        // The header: type digit, then `N-` for binary packets.
        let header = if count > 0 {
            format!("{}{count}-", kind.digit() as char)
        } else {
            format!("{}", kind.digit() as char)
        };
        if self.kind == PacketType::Ack
            && settings.has(Mutant::AckDataNotArray)
            && let (Some(Value::Array(items)), Some(json)) = (data, &json)
            && let Some(prefix) = text.strip_suffix(json.as_str())
        {
            // The codec refuses to encode it, so the array is swapped after encoding.
            let object: Map<String, Value> = items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v.clone()))
                .collect();
            text = format!(
                "{prefix}{}",
                socketio::to_js_json(&Value::Object(object)).ok()?
            );
        }
        if !text.starts_with(&header) {
            return Some(text);
        }
        if count > 0 && settings.has(Mutant::AttachmentCountOffByOne) {
            let wrong = format!("{}{}-", kind.digit() as char, count + 1);
            text.replace_range(..header.len(), &wrong);
        } else if nsp.is_root() && settings.has(Mutant::NamespaceNotElided) {
            text.insert_str(header.len(), "/,");
        }
        Some(text)
    }
}

/// Renumbers the placeholders of `value` in walk order (depth first, keys in order), as the
/// reference encoder does, collecting the attachments they point to; with `inline`, replaces
/// them by what `JSON.stringify` makes of a Node Buffer instead.
fn renumber(value: &mut Value, from: &[Bytes], to: &mut Vec<Bytes>, inline: bool) {
    let attachment = match value {
        Value::Object(map) if map.get("_placeholder") == Some(&Value::Bool(true)) => map
            .get("num")
            .and_then(Value::as_u64)
            .and_then(|n| from.get(usize::try_from(n).ok()?)),
        Value::Object(map) => {
            map.values_mut().for_each(|v| renumber(v, from, to, inline));
            return;
        }
        Value::Array(items) => {
            items.iter_mut().for_each(|v| renumber(v, from, to, inline));
            return;
        }
        _ => return,
    };
    // The decoder checked every placeholder, so `attachment` is there; leave it otherwise.
    let Some(bytes) = attachment.cloned() else {
        return;
    };
    let mut map = Map::new();
    if inline {
        map.insert("type".into(), Value::from("Buffer"));
        map.insert("data".into(), Value::from(bytes.to_vec()));
    } else {
        map.insert("_placeholder".into(), Value::Bool(true));
        map.insert("num".into(), Value::from(to.len()));
        to.push(bytes);
    }
    *value = Value::Object(map);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn texts(out: &Outgoing, mutant: Mutant) -> Vec<String> {
        out.frames(&Settings::with_mutant(mutant))
            .iter()
            .map(|p| match p.as_packet() {
                engineio::Packet::Message(engineio::Message::Text(t)) => t.to_owned(),
                engineio::Packet::Message(engineio::Message::Binary(b)) => format!("<{b:?}>"),
                other => format!("{other:?}"),
            })
            .collect()
    }

    fn binary_args() -> Args {
        // `["message", {"a": [ph 1], "b": ph 0}]` + <aa> <bb>: the echo renumbers in walk order.
        Args {
            values: vec![
                json!({"a": [{"_placeholder": true, "num": 1}], "b": {"_placeholder": true, "num": 0}}),
            ],
            attachments: vec![Bytes::from_static(&[0xaa]), Bytes::from_static(&[0xbb])],
            binary: true,
        }
    }

    #[test]
    fn binary_events_are_renumbered_in_walk_order() {
        let out = Outgoing::event("/", "message-back", &binary_args(), None);
        assert_eq!(
            texts(&out, Mutant::None),
            [
                r#"52-["message-back",{"a":[{"_placeholder":true,"num":0}],"b":{"_placeholder":true,"num":1}}]"#,
                "<[187]>",
                "<[170]>"
            ]
        );
        let ack = Outgoing::ack("/custom", 7, &binary_args());
        assert!(texts(&ack, Mutant::None)[0].starts_with("62-/custom,7[{"));
    }

    #[test]
    fn plain_placeholders_stay_objects() {
        let args = Args::new(vec![json!({"_placeholder": true, "num": 0})]);
        let out = Outgoing::event("/", "x", &args, Some(0));
        assert_eq!(
            texts(&out, Mutant::None),
            [r#"20["x",{"_placeholder":true,"num":0}]"#]
        );
    }

    #[test]
    fn mutants_change_the_encoding() {
        let out = Outgoing::event("/", "message-back", &binary_args(), None);
        assert!(
            texts(&out, Mutant::AttachmentCountOffByOne)[0].starts_with("53-[\"message-back\"")
        );
        let inline = texts(&out, Mutant::PlaceholdersNotUsed);
        assert_eq!(
            inline,
            [
                r#"2["message-back",{"a":[{"type":"Buffer","data":[187]}],"b":{"type":"Buffer","data":[170]}}]"#
            ]
        );
        let plain = Outgoing::event("/", "auth", &Args::new(vec![json!({})]), None);
        assert_eq!(
            texts(&plain, Mutant::NamespaceNotElided),
            [r#"2/,["auth",{}]"#]
        );
        assert_eq!(
            texts(&plain, Mutant::JsonWithSpaces),
            ["2[\n  \"auth\",\n  {}\n]"]
        );
        let error = Outgoing::connect_error("/random", json!("Invalid namespace"));
        assert_eq!(
            texts(&error, Mutant::None),
            [r#"4/random,"Invalid namespace""#]
        );
        assert_eq!(
            texts(&Outgoing::connect("/custom", None), Mutant::None),
            ["0/custom,"]
        );
    }
}
