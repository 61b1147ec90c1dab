using System.Net;
using System.Text;
using Firewall.Core.Helpers;

namespace Firewall.Core.Tests.Helpers;

/// <summary>The in6_pton port against .NET's parser on ordinary addresses, and its kernel-specific edges.</summary>
public class KernelInetPtonTests
{
    private static bool Parse(string s, out byte[] a, out int end, char delim = '|')
    {
        a = new byte[16];
        return KernelInetPton.TryParseV6(Encoding.ASCII.GetBytes(s), delim, a, out end);
    }

    [Theory]
    [InlineData("::")]
    [InlineData("::1")]
    [InlineData("1::")]
    [InlineData("2001:db8::1")]
    [InlineData("2001:DB8::A:b:C")]
    [InlineData("fe80::1:2:3:4")]
    [InlineData("1:2:3:4:5:6:7:8")]
    [InlineData("2001:db8:0:0:1::")]
    [InlineData("::ffff:198.18.0.1")]
    [InlineData("1:2:3:4:5:6:198.18.0.1")]
    [InlineData("2001:db8::198.18.0.1")]
    [InlineData("0000:0000:0000:0000:0000:0000:0000:0001")]
    public void ValidAddress_ParsesLikeDotNet(string text)
    {
        Assert.True(Parse(text + "|", out byte[] a, out int end), text);
        Assert.Equal(IPAddress.Parse(text).GetAddressBytes(), a);
        Assert.Equal(text.Length, end);
    }

    [Theory]
    [InlineData(":")]
    [InlineData(":::")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("1:2:3:4:5:6:7")]
    [InlineData("12345::1")]
    [InlineData("1.2.3.4")]
    [InlineData("::1.2.3")]
    [InlineData("::256.1.1.1")]
    [InlineData("::1..2.3")]
    [InlineData("g::1")]
    [InlineData("1::2::3")]
    [InlineData("")]
    public void InvalidAddress_Fails(string text)
    {
        Assert.False(Parse(text + "|", out _, out _), text);
    }

    [Fact]
    public void EndOfData_ActsAsDelimiter()
    {
        Assert.True(Parse("2001:db8::1", out byte[] a, out int end));
        Assert.Equal(IPAddress.Parse("2001:db8::1").GetAddressBytes(), a);
        Assert.Equal(11, end);
    }

    [Fact]
    public void NulByte_ActsAsDelimiter()
    {
        Assert.True(Parse("::1\0rest", out _, out int end));
        Assert.Equal(3, end);
    }

    [Fact]
    public void ColonEndsEmbeddedDottedQuad()
    {
        Assert.True(Parse("::198.18.0.1:x", out byte[] a, out int end));
        Assert.Equal(IPAddress.Parse("::198.18.0.1").GetAddressBytes(), a);
        Assert.Equal(12, end);
    }
}
