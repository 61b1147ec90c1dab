using Firewall.Core.Packets;

namespace Firewall.Core.Tests.Packets;

/// <summary>CRC32c against published vectors and packets built by scapy (a third-party implementation).</summary>
public class Crc32cTests
{
    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("313233343536373839", 0xE3069283u)] // "123456789", the CRC catalogue check value
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", 0x8A9136AAu)] // RFC 3720 B.4: 32 zero bytes
    [InlineData("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0x62A8AB43u)] // RFC 3720 B.4: 32 × 0xFF
    public void Compute_MatchesPublishedVectors(string hex, uint expected)
    {
        Assert.Equal(expected, Crc32c.Compute(Convert.FromHexString(hex)));
    }

    [Theory]
    [InlineData("03e807d000000000b9a00f1c01000014111111110000ffff0001000100000001")] // scapy: INIT
    [InlineData("07d003e811111111e9c431600000001500000007000000000000000068656c6c6f000000")] // scapy: DATA "hello"
    public void VerifySctp_AcceptsPacketsBuiltByScapy(string hex)
    {
        var b = Convert.FromHexString(hex);
        Assert.True(Crc32c.VerifySctp(b));
        b[^1] ^= 1;
        Assert.False(Crc32c.VerifySctp(b));
    }

    [Fact]
    public void ComputeSctp_MatchesTheTestsBitwiseImplementation()
    {
        var pkt = SctpBuilder.Packet(1, 2, 0xdeadbeef, [SctpBuilder.DataChunk(9, "a longer payload than eight bytes")]);
        Assert.True(Crc32c.VerifySctp(pkt));
    }
}
