// Access tokens through JwtCodec::Verify, and key-ring files through KeyRing::Deserialize.
// The first input byte picks the mode: 0 a raw token; 1 a claims payload, signed here with the
// ring's key so that the claim checks behind the signature are reached too; 2 a key-ring file.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "auth/jwt.hpp"
#include "crypto/crypto.hpp"

namespace {

using namespace hub;

const auth::TimePoint kNow = auth::TimePoint(std::chrono::seconds(1'750'000'000));

struct Fixture {
    auth::KeyRing ring;
    std::string kid;
    std::string private_pem;
    std::unique_ptr<auth::JwtCodec> codec;

    Fixture() {
        auto key = auth::NewSigningKey(kNow - std::chrono::hours(1));
        if (!key.ok()) __builtin_trap();
        private_pem = key->private_pem.Reveal();
        auto added = ring.Add(std::move(key.value()));
        if (!added.ok()) __builtin_trap();
        kid = added.value();
        auto codec_or = auth::JwtCodec::Create(ring, {.issuer = "https://hub.test",
                                                      .audience = "bailian-hub"});
        if (!codec_or.ok()) __builtin_trap();
        codec = std::make_unique<auth::JwtCodec>(std::move(codec_or.value()));
    }

    // RS256 over `signing_input` with the ring's private key.
    std::string Sign(std::string_view signing_input) const {
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(
            BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())), BIO_free);
        std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
            PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                                    EVP_MD_CTX_free);
        if (!pkey || !ctx ||
            EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) != 1) {
            __builtin_trap();
        }
        std::size_t len = 0;
        const auto* in = reinterpret_cast<const unsigned char*>(signing_input.data());
        if (EVP_DigestSign(ctx.get(), nullptr, &len, in, signing_input.size()) != 1) {
            __builtin_trap();
        }
        std::string sig(len, '\0');
        if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, in,
                           signing_input.size()) != 1) {
            __builtin_trap();
        }
        sig.resize(len);
        return sig;
    }
};

const Fixture& TheFixture() {
    static const Fixture f;
    return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const Fixture& f = TheFixture();
    std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    switch (data[0] % 3) {
        case 0:
            (void)f.codec->Verify(rest, kNow);
            break;
        case 1: {
            std::string header = R"({"alg":"RS256","typ":"JWT","kid":")" + f.kid + R"("})";
            std::string signing_input =
                crypto::Base64UrlEncode(header) + "." + crypto::Base64UrlEncode(rest);
            std::string token =
                signing_input + "." + crypto::Base64UrlEncode(f.Sign(signing_input));
            auth::JwtError why{};
            auto claims = f.codec->Verify(token, kNow, &why);
            // Whatever passes names this issuer and audience and is not expired.
            if (claims.ok() && (claims->iss != "https://hub.test" ||
                                claims->aud != "bailian-hub" || claims->sub.empty())) {
                __builtin_trap();
            }
            break;
        }
        default: {
            auto ring = auth::KeyRing::Deserialize(rest);
            if (ring.ok()) (void)ring->JwksJson(kNow);
            break;
        }
    }
    return 0;
}
