#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sio_fuzz_oracles::sio_json_validate(data));
