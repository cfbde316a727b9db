// The built-in list of common passwords (lower case, sorted), checked case-insensitively by
// IsCommonPassword. Drawn from the heads of public breach-frequency lists (global and Chinese
// sites), plus names of this product and its upstream. Entries shorter than 8 characters are
// left out: the length rule already rejects them.
#include <algorithm>
#include <array>
#include <string>
#include <string_view>

#include "auth/password.hpp"

namespace hub::auth {
namespace {

// clang-format off
constexpr std::array<std::string_view, 494> kCommonPasswords = {
    "!@#$%^&*", "!@#$%^&*()", "!qaz2wsx", "!qaz@wsx", "00000000", "000000000", "0000000000",
    "01234567", "0123456789", "09876543", "0987654321", "110110110", "11111111", "111111111",
    "1111111111", "1111122222", "11223344", "1122334455", "112233445566", "12121212", "1212121212",
    "123123123", "123123123123", "1231231234", "123321123", "1234!@#$", "12341234", "12344321",
    "1234512345", "123454321", "1234554321", "123456123456", "12345678", "123456780",
    "1234567812345678", "123456788", "123456789", "123456789+", "123456789.", "1234567890",
    "12345678900", "1234567890a", "1234567890qwertyuiop", "12345678910", "1234567899", "123456789a",
    "123456789q", "12345678a", "12345679", "1234567a", "1234567q", "123456aa", "123456abc",
    "123456qq", "12345abc", "12345qwert", "1234abcd", "1234asdf", "1234qwer", "1234zxcv",
    "123654789", "123abc123", "123qweasd", "123qweasdzxc", "123qwerty", "13145200",
    "147258369", "1472583690", "147852369", "159357456", "159753456", "1a2b3c4d",
    "1a2b3c4d5e", "1a2s3d4f", "1q2w3e4r", "1q2w3e4r!", "1q2w3e4r5t", "1q2w3e4r5t6y",
    "1q2w3e4r5t6y7u8i", "1qaz!qaz", "1qaz2wsx", "1qaz2wsx3edc", "1qaz@wsx", "1qazxsw2", "1z2x3c4v",
    "22222222", "31415926", "3141592653", "321654987", "33333333", "44444444",
    "5201314520", "520520520", "521521521", "55555555", "66666666", "666666666", "741852963",
    "77777777", "789456123", "87654321", "88888888", "888888888", "963852741", "98765432",
    "987654321", "9876543210", "99999999", "999999999", "a1234567", "a12345678", "a123456789",
    "a1b2c3d4", "a1b2c3d4e5", "a5201314", "aa123456", "aa12345678", "aaaaaaaa", "aaaaaaaaa",
    "abc12345", "abc123456", "abc1234567", "abc123abc", "abcabcabc", "abcd1234", "abcd12345",
    "abcdabcd", "abcdefg1", "abcdefgh", "abcdefghi", "abcdefghij", "access123", "access14",
    "admin123", "admin1234", "admin12345", "admin@123", "adminadmin", "administrator", "aini1314",
    "alexander", "alibaba123", "aliyun123", "andrew12", "angel123", "angel1234",
    "anthony1", "anything", "apple123", "arsenal1", "asd123456", "asdasd123", "asdasdasd",
    "asdf1234", "asdfasdf", "asdfghjk", "asdfghjkl", "asdfghjkl1", "asshole1", "autumn2024",
    "autumn2025", "babygirl", "babygirl1", "bailian123", "bailianhub", "banana12", "barcelona",
    "baseball", "baseball1", "basketball", "basketball1", "batman123", "benjamin", "birthday",
    "birthday1", "blink182", "buster12", "butterfly", "butterfly1", "changeme", "changeme1",
    "changeme123", "charles1", "charlie1", "chatgpt1", "chatgpt123", "cheese12", "chelsea1",
    "chocolate", "chocolate1", "christopher", "computer", "computer1", "computer123", "contrasena",
    "cookie123", "corvette", "cowboys1", "cristiano", "daniel12", "dashscope", "dashscope1",
    "database", "dearbook", "december1", "default1", "default123", "diamond1", "dragon12",
    "dragon123", "elizabeth", "facebook", "facebook1", "ferrari1", "flower12", "flowers1",
    "football", "football1", "football12", "fortnite", "freedom1", "fuckoff1", "fuckyou1",
    "george12", "ginger12", "golden12", "goodluck", "goodluck1", "google123", "guest1234",
    "hannah123", "happiness", "happy123", "happy1234", "happyday", "harrypotter", "hello123",
    "hello1234", "hello12345", "helloworld", "hockey12", "hogwarts", "hunter12", "ihateyou",
    "iloveme1", "iloveu123", "iloveyou", "iloveyou!", "iloveyou1", "iloveyou123", "iloveyou2",
    "instagram", "instagram1", "internet", "internet1", "iphone123", "jackson1", "january1",
    "jasmine1", "jennifer", "jessica1", "jonathan", "jordan23", "joshua12", "justin12", "juventus",
    "killer12", "letmein!", "letmein1", "letmein123", "letmeinnow", "li123456", "linkedin",
    "linux123", "liverpool", "liverpool1", "login123", "lovelove", "lovely123", "loveyou1",
    "maggie12", "manchester", "manutd99", "master12", "master123", "masterkey", "matthew1",
    "mercedes", "messi1010", "metallica", "michael1", "michelle", "microsoft", "minecraft",
    "minecraft1", "monday12", "monkey12", "monkey123", "motdepasse", "mustang1", "mypassword",
    "mypassword1", "mysql123", "naruto123", "newpassword", "nicholas", "nopassword", "nothing1",
    "office365", "onepiece", "openai123", "opensesame", "oracle123", "orange12", "outlook1",
    "p4ssw0rd", "p4ssword", "p@55w0rd", "p@ssw0rd", "p@ssw0rd1", "p@ssword", "pa$$w0rd", "pa$$word",
    "pa55w0rd", "pa55word", "pass1234", "pass12345", "passpass", "passw0rd", "passw0rd1",
    "passwd123", "password", "password!", "password01", "password1", "password1!", "password11",
    "password12", "password123", "password123!", "password1234", "password12345", "password2",
    "passwort", "passwort1", "patricia", "pepper12", "pokemon1", "pokemon123", "porsche1",
    "postgres", "princess", "princess1", "pumpkin1", "purple12", "q123456789", "q1w2e3r4",
    "q1w2e3r4t5", "q1w2e3r4t5y6", "qaz123456", "qazwsx123", "qazwsxedc", "qazwsxedcrfv", "qq123456",
    "qq123456789", "qqqqqqqq", "qwe12345", "qwe123456", "qwe123qwe", "qweasd123", "qweasdzxc",
    "qwen1234", "qweqweqwe", "qwer1234", "qwerasdf", "qwert12345", "qwerty01", "qwerty1!",
    "qwerty11", "qwerty12", "qwerty123", "qwerty1234", "qwerty12345", "qwerty123456",
    "qwertyqwerty", "qwertyu1", "qwertyui", "qwertyuiop", "qwertyuiop123", "rainbow1", "ranger12",
    "richard1", "robert12", "roblox123", "ronaldo7", "root1234", "rootpass", "rootroot", "samantha",
    "samsung1", "samsung123", "sasuke12", "scooter1", "secret123", "secret1234", "secretpassword",
    "server123", "shadow12", "shadow123", "silver12", "slipknot", "snoopy12", "soccer12",
    "spiderman", "spiderman1", "spring2024", "spring2025", "sqlserver", "starwars", "starwars1",
    "steelers", "summer2023", "summer2024", "summer2025", "sunday12", "sunshine", "sunshine1",
    "superman", "superman1", "superman123", "superuser", "sweetheart", "sweetie1", "taobao123",
    "test1234", "test12345", "test123456", "tester12", "testing1", "testing123", "testtest",
    "thomas12", "tigger12", "tinkerbell", "tongyi123", "toor1234", "trustno1", "twitter1",
    "ubuntu123", "unknown1", "user1234", "user12345", "victoria", "w123456789", "wang123456",
    "welcome!", "welcome1", "welcome12", "welcome123", "welcome2", "whatever", "whatever1",
    "william1", "windows1", "windows10", "windows7", "winter2023", "winter2024", "winter2025",
    "woaini12", "woaini123", "woaini1314", "woaini520", "woaini521", "woaiwojia", "woshishui",
    "xiazhili", "xxxxxxxx", "yankees1", "yellow12", "youtube1", "z123456789", "zaq12wsx",
    "zaq1@wsx", "zaq1xsw2", "zaq1zaq1", "zhang123456", "zhangwei", "zxc123456", "zxcv1234",
    "zxcvbnm1", "zxcvbnm123", "zxcvbnma", "zzzzzzzz",
};
// clang-format on

constexpr bool IsSorted() {
    for (std::size_t i = 1; i < kCommonPasswords.size(); ++i) {
        if (!(kCommonPasswords[i - 1] < kCommonPasswords[i])) return false;
    }
    return true;
}
static_assert(IsSorted(), "kCommonPasswords must be sorted and unique for binary search");

}  // namespace

bool IsCommonPassword(std::string_view password) {
    std::string lower = AsciiLower(password);
    return std::binary_search(kCommonPasswords.begin(), kCommonPasswords.end(),
                              std::string_view(lower));
}

}  // namespace hub::auth
