#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sio_codec::fuzzing::eio_client_session(data));
