// WebAuthn's binary inputs through the strict CBOR decoder (auth/cbor.hpp) and the parts of
// auth/webauthn.hpp that read attacker-controlled bytes: authenticator data (with attested
// credential data and extensions) and COSE keys (turned into OpenSSL keys). The first byte
// picks the path: 0 Decode + DecodePrefix, 1 tight limits, 2 authenticator data, 3 COSE key.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "auth/cbor.hpp"
#include "auth/webauthn.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const int mode = data[0] & 3;
    std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    using namespace hub::auth;

    if (mode == 0 || mode == 1) {
        cbor::Limits limits;
        if (mode == 1) {
            limits.max_depth = 2;
            limits.max_items = 3;
            limits.max_string = 4;
        }
        auto whole = cbor::Decode(bytes, limits);
        auto prefix = cbor::DecodePrefix(bytes, limits);
        // One item decodes the same either way; the prefix never claims more than it was given.
        if (whole.ok() && (!prefix.ok() || prefix->consumed != bytes.size())) std::abort();
        if (prefix.ok() && prefix->consumed > bytes.size()) std::abort();
        if (!prefix.ok() && whole.ok()) std::abort();
        if (prefix.ok() && prefix->consumed == bytes.size() && !whole.ok()) std::abort();
        if (whole.ok()) {
            (void)whole->AsInt();
            (void)whole->Find(1);
            (void)whole->Find(std::string_view("fmt"));
        }
        return 0;
    }
    if (mode == 2) {
        auto ad = webauthn::ParseAuthenticatorData(bytes);
        if (ad.ok()) {
            if (ad->rp_id_hash.size() != 32) std::abort();
            if (ad->credential) {
                if (!(ad->flags & webauthn::kFlagAt)) std::abort();
                (void)webauthn::CheckCoseKey(ad->credential->public_key);
            }
        }
        return 0;
    }
    auto alg = webauthn::CheckCoseKey(bytes);
    if (alg.ok() && *alg != webauthn::kAlgEs256 && *alg != webauthn::kAlgRs256 &&
        *alg != webauthn::kAlgEdDsa)
        std::abort();
    (void)webauthn::VerifySignature(bytes, "data", "sig");
    return 0;
}
