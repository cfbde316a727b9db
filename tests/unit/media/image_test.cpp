#include "media/image.hpp"

#include <gif_lib.h>
#include <gtest/gtest.h>
#include <png.h>
#include <turbojpeg.h>
#include <webp/encode.h>

#include <cstring>
#include <string>

namespace hub::media {
namespace {

// ---- test pictures, made with the libraries directly (not with the code under test) ----

std::string Gradient(int w, int h, int channels) {
    std::string px(static_cast<std::size_t>(w) * h * channels, '\0');
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            auto* p = &px[(static_cast<std::size_t>(y) * w + x) * channels];
            p[0] = static_cast<char>(x * 255 / std::max(1, w - 1));
            p[1] = static_cast<char>(y * 255 / std::max(1, h - 1));
            p[2] = static_cast<char>(128);
            if (channels == 4) p[3] = static_cast<char>(255);
        }
    }
    return px;
}

std::string MakePng(int w, int h) {
    png_image img;
    std::memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = w;
    img.height = h;
    img.format = PNG_FORMAT_RGB;
    std::string px = Gradient(w, h, 3);
    png_alloc_size_t size = 0;
    EXPECT_TRUE(png_image_write_to_memory(&img, nullptr, &size, 0, px.data(), 0, nullptr));
    std::string out(size, '\0');
    EXPECT_TRUE(png_image_write_to_memory(&img, out.data(), &size, 0, px.data(), 0, nullptr));
    out.resize(size);
    return out;
}

std::string MakeJpeg(int w, int h) {
    tjhandle t = tjInitCompress();
    std::string px = Gradient(w, h, 3);
    unsigned char* buf = nullptr;
    unsigned long size = 0;
    EXPECT_EQ(tjCompress2(t, reinterpret_cast<unsigned char*>(px.data()), w, 0, h, TJPF_RGB, &buf,
                          &size, TJSAMP_444, 95, 0),
              0);
    std::string out(reinterpret_cast<char*>(buf), size);
    tjFree(buf);
    tjDestroy(t);
    return out;
}

std::string MakeWebp(int w, int h) {
    std::string px = Gradient(w, h, 4);
    uint8_t* buf = nullptr;
    size_t n = WebPEncodeRGBA(reinterpret_cast<const uint8_t*>(px.data()), w, h, w * 4, 80, &buf);
    std::string out(reinterpret_cast<char*>(buf), n);
    WebPFree(buf);
    return out;
}

int GifWrite(GifFileType* g, const GifByteType* data, int len) {
    static_cast<std::string*>(g->UserData)->append(reinterpret_cast<const char*>(data), len);
    return len;
}

// Two frames: the first is red, the second blue; only the first may be used.
std::string MakeGif(int w, int h) {
    std::string out;
    int err = 0;
    GifFileType* g = EGifOpen(&out, GifWrite, &err);
    GifColorType colors[4] = {{255, 0, 0}, {0, 0, 255}, {0, 255, 0}, {0, 0, 0}};
    ColorMapObject* map = GifMakeMapObject(4, colors);
    EGifSetGifVersion(g, true);
    EXPECT_EQ(EGifPutScreenDesc(g, w, h, 2, 0, map), GIF_OK);
    for (int frame = 0; frame < 2; ++frame) {
        EXPECT_EQ(EGifPutImageDesc(g, 0, 0, w, h, false, nullptr), GIF_OK);
        std::string line(static_cast<std::size_t>(w), static_cast<char>(frame));
        for (int y = 0; y < h; ++y)
            EXPECT_EQ(EGifPutLine(g, reinterpret_cast<GifPixelType*>(line.data()), w), GIF_OK);
    }
    EGifCloseFile(g, &err);
    GifFreeMapObject(map);
    return out;
}

// An EXIF APP1 segment (big-endian TIFF) with an orientation and a GPS IFD holding a latitude
// reference, plus a maker note text that must not survive.
std::string ExifSegment(int orientation) {
    std::string t = "MM";
    auto u16 = [&](int v) { t += static_cast<char>(v >> 8), t += static_cast<char>(v & 0xff); };
    auto u32 = [&](std::uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) t += static_cast<char>((v >> s) & 0xff);
    };
    u16(42);
    u32(8);  // IFD0 at 8
    u16(2);  // two entries
    u16(0x0112);  // Orientation, SHORT x 1
    u16(3);
    u32(1);
    u16(orientation);
    u16(0);
    u16(0x8825);  // GPS IFD pointer, LONG x 1
    u16(4);
    u32(1);
    u32(38);
    u32(0);  // no next IFD; the GPS IFD follows at 8 + 2 + 24 + 4 = 38
    u16(1);  // GPS IFD: one entry
    u16(0x0001);  // GPSLatitudeRef, ASCII x 2: "N\0"
    u16(2);
    u32(2);
    t += std::string("N\0\0\0", 4);
    u32(0);
    t += "SECRET-GPS-PLACE";
    std::string seg = "Exif";
    seg += '\0';
    seg += '\0';
    seg += t;
    std::string out = "\xff\xe1";
    std::size_t len = seg.size() + 2;
    out += static_cast<char>(len >> 8);
    out += static_cast<char>(len & 0xff);
    return out + seg;
}

std::string WithExif(const std::string& jpeg, int orientation) {
    return jpeg.substr(0, 2) + ExifSegment(orientation) + jpeg.substr(2);
}

// A PNG that declares w x h and holds no pixels at all.
std::string PngHeaderOnly(std::uint32_t w, std::uint32_t h) {
    std::string s = "\x89PNG\r\n\x1a\n";
    s += std::string("\0\0\0\x0d", 4) + "IHDR";
    for (std::uint32_t v : {w, h})
        for (int sh = 24; sh >= 0; sh -= 8) s += static_cast<char>((v >> sh) & 0xff);
    s += std::string("\x08\x02\0\0\0", 5);
    s += std::string(4, '\0');  // CRC (wrong on purpose: nothing may get that far)
    return s;
}

NormalizeLimits Limits(std::int64_t target = 1'003'520) {
    NormalizeLimits l;
    l.target_pixels = target;
    return l;
}

// ---- sniffing and probing ----

TEST(MediaSniff, TypeComesFromTheBytes) {
    EXPECT_EQ(SniffType(MakePng(16, 16)), ImageType::kPng);
    EXPECT_EQ(SniffType(MakeJpeg(16, 16)), ImageType::kJpeg);
    EXPECT_EQ(SniffType(MakeWebp(16, 16)), ImageType::kWebp);
    EXPECT_EQ(SniffType(MakeGif(16, 16)), ImageType::kGif);
    EXPECT_EQ(SniffType("<svg xmlns='http://www.w3.org/2000/svg'/>"), ImageType::kUnknown);
    EXPECT_EQ(SniffType("%PDF-1.7"), ImageType::kUnknown);
    EXPECT_EQ(SniffType(""), ImageType::kUnknown);
    EXPECT_EQ(SniffType("RIFF\0\0\0\0WAVE"), ImageType::kUnknown);
    EXPECT_EQ(MimeType(ImageType::kJpeg), "image/jpeg");
    EXPECT_EQ(Extension(ImageType::kWebp), "webp");
}

TEST(MediaProbe, ReadsSizesFromHeaders) {
    auto png = Probe(MakePng(40, 30));
    ASSERT_TRUE(png.ok());
    EXPECT_EQ(png->width, 40);
    EXPECT_EQ(png->height, 30);
    auto jpg = Probe(MakeJpeg(33, 17));
    ASSERT_TRUE(jpg.ok());
    EXPECT_EQ(jpg->width, 33);
    EXPECT_EQ(jpg->height, 17);
    auto webp = Probe(MakeWebp(20, 12));
    ASSERT_TRUE(webp.ok());
    EXPECT_EQ(webp->width, 20);
    auto gif = Probe(MakeGif(25, 14));
    ASSERT_TRUE(gif.ok());
    EXPECT_EQ(gif->height, 14);
}

TEST(MediaProbe, RefusesWhatIsNotAnImage) {
    auto r = Probe("GIF? no, a text file");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, core::ErrorCode::kUnsupportedMediaType);
    EXPECT_EQ(r.error().api_code, "unsupported_image");
    auto cut = Probe(std::string("\x89PNG\r\n\x1a\n", 8));
    ASSERT_FALSE(cut.ok());
    EXPECT_EQ(cut.error().api_code, "invalid_image");
}

// ---- limits ----

TEST(MediaNormalize, RefusesABombFromItsHeaderAlone) {
    // 50,000 x 50,000 declared in 33 bytes: decoding would need 10 GB.
    auto r = Normalize(PngHeaderOnly(50'000, 50'000), Limits());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "image_too_large");
    EXPECT_EQ(r.error().code, core::ErrorCode::kUnprocessable);
    // Within the limit the same broken file gets as far as the decoder, which refuses it.
    auto small = Normalize(PngHeaderOnly(100, 100), Limits());
    ASSERT_FALSE(small.ok());
    EXPECT_EQ(small.error().api_code, "invalid_image");
}

TEST(MediaNormalize, SideLimitIsConfigurable) {
    NormalizeLimits l = Limits();
    l.max_side = 64;
    EXPECT_EQ(Normalize(MakePng(65, 20), l).error().api_code, "image_too_large");
    EXPECT_TRUE(Normalize(MakePng(64, 20), l).ok());
    EXPECT_EQ(Normalize(MakePng(64, 8), l).error().api_code, "image_too_small");
}

TEST(MediaNormalize, TruncatedJpegIsInvalid) {
    std::string j = MakeJpeg(64, 64);
    auto r = Normalize(j.substr(0, j.size() / 3), Limits());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().api_code, "invalid_image");
}

// ---- re-encoding ----

TEST(MediaNormalize, KeepsTypesAndSizes) {
    auto png = Normalize(MakePng(50, 40), Limits());
    ASSERT_TRUE(png.ok()) << png.error().detail;
    EXPECT_EQ(png->type, ImageType::kPng);
    EXPECT_EQ(SniffType(png->bytes), ImageType::kPng);
    EXPECT_EQ(png->width, 50);
    EXPECT_FALSE(png->resized);
    auto webp = Normalize(MakeWebp(50, 40), Limits());
    ASSERT_TRUE(webp.ok());
    EXPECT_EQ(webp->type, ImageType::kWebp);
    EXPECT_EQ(SniffType(webp->bytes), ImageType::kWebp);
}

TEST(MediaNormalize, GifBecomesPngOfItsFirstFrame) {
    auto r = Normalize(MakeGif(20, 12), Limits());
    ASSERT_TRUE(r.ok()) << r.error().detail;
    EXPECT_EQ(r->type, ImageType::kPng);
    EXPECT_EQ(r->width, 20);
    EXPECT_EQ(r->height, 12);
    png_image img;
    std::memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    ASSERT_TRUE(png_image_begin_read_from_memory(&img, r->bytes.data(), r->bytes.size()));
    img.format = PNG_FORMAT_RGB;
    std::string px(PNG_IMAGE_SIZE(img), '\0');
    ASSERT_TRUE(png_image_finish_read(&img, nullptr, px.data(), 0, nullptr));
    EXPECT_EQ(static_cast<unsigned char>(px[0]), 255);  // red: the first frame
    EXPECT_EQ(static_cast<unsigned char>(px[2]), 0);
}

TEST(MediaExif, OrientationIsReadAndMetadataDropped) {
    std::string jpeg = WithExif(MakeJpeg(60, 20), 6);
    EXPECT_EQ(JpegOrientation(jpeg), 6);
    EXPECT_NE(jpeg.find("SECRET-GPS-PLACE"), std::string::npos);
    auto r = Normalize(jpeg, Limits());
    ASSERT_TRUE(r.ok()) << r.error().detail;
    EXPECT_EQ(r->type, ImageType::kJpeg);
    // Orientation 6 (turn 90 degrees clockwise): the picture is now upright, 20 x 60.
    EXPECT_EQ(r->width, 20);
    EXPECT_EQ(r->height, 60);
    EXPECT_EQ(r->bytes.find("Exif"), std::string::npos);
    EXPECT_EQ(r->bytes.find("SECRET-GPS-PLACE"), std::string::npos);
    EXPECT_EQ(JpegOrientation(r->bytes), 1);
    auto probe = Probe(r->bytes);
    ASSERT_TRUE(probe.ok());
    EXPECT_EQ(probe->width, 20);
}

TEST(MediaExif, NoOrHalfExifMeansUpright) {
    EXPECT_EQ(JpegOrientation(MakeJpeg(16, 16)), 1);
    std::string jpeg = WithExif(MakeJpeg(16, 16), 3);
    EXPECT_EQ(JpegOrientation(jpeg), 3);
    EXPECT_EQ(JpegOrientation(jpeg.substr(0, 20)), 1);
    EXPECT_EQ(JpegOrientation(WithExif(MakeJpeg(16, 16), 9)), 1);
}

TEST(MediaNormalize, ShrinksLargePicturesKeepingAspect) {
    auto r = Normalize(MakePng(400, 300), Limits(10'000));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->resized);
    EXPECT_EQ(r->source_width, 400);
    EXPECT_LE(static_cast<std::int64_t>(r->width) * r->height, 10'000);
    EXPECT_NEAR(static_cast<double>(r->width) / r->height, 4.0 / 3.0, 0.03);
    auto probe = Probe(r->bytes);
    ASSERT_TRUE(probe.ok());
    EXPECT_EQ(probe->width, r->width);
}

TEST(MediaGeometry, FitWithin) {
    EXPECT_EQ(FitWithin(100, 50, 10'000), (Size{100, 50}));
    Size s = FitWithin(4000, 3000, 1'003'520);
    EXPECT_LE(static_cast<std::int64_t>(s.width) * s.height, 1'003'520);
    EXPECT_GE(static_cast<std::int64_t>(s.width) * s.height, 990'000);
    EXPECT_NEAR(static_cast<double>(s.width) / s.height, 4.0 / 3.0, 0.01);
    EXPECT_EQ(FitWithin(10'000, 1, 100), (Size{100, 1}));
}

TEST(MediaGeometry, OrientTurnsAndMirrors) {
    // 2 x 1: A B
    Pixels in{2, 1, 1, "AB"};
    EXPECT_EQ(Orient(in, 1).data, "AB");
    EXPECT_EQ(Orient(in, 2).data, "BA");
    Pixels turned = Orient(in, 6);  // clockwise: A on top
    EXPECT_EQ(turned.width, 1);
    EXPECT_EQ(turned.height, 2);
    EXPECT_EQ(turned.data, "AB");
    EXPECT_EQ(Orient(in, 8).data, "BA");  // counter-clockwise: B on top
    Pixels square{2, 2, 1, "ABCD"};       // A B / C D
    EXPECT_EQ(Orient(square, 3).data, "DCBA");
    EXPECT_EQ(Orient(square, 6).data, "CADB");
    EXPECT_EQ(Orient(square, 5).data, "ACBD");
}

TEST(MediaGeometry, ShrinkAverages) {
    Pixels in{2, 2, 1, std::string("\x00\x10\x20\x30", 4)};
    Pixels out = Shrink(in, 1, 1);
    EXPECT_EQ(out.width, 1);
    EXPECT_EQ(static_cast<unsigned char>(out.data[0]), 0x18);
}

TEST(MediaDataUrl, Base64WithMime) {
    EXPECT_EQ(DataUrl("image/png", std::string("\x00\x01\x02", 3)), "data:image/png;base64,AAEC");
}

}  // namespace
}  // namespace hub::media
