#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sio_codec::fuzzing::sio_client_connection(data));
