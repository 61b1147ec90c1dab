using System.Buffers.Binary;
using System.Diagnostics;
using Firewall.Integration.Tests.DataPaths;
using Firewall.Integration.Tests.Lab;
using Firewall.Native;
using Firewall.Native.Interfaces;
using Firewall.Native.Namespaces;
using Firewall.Native.Tun;

namespace Firewall.Integration.Tests.Native;

/// <summary>A TUN device created inside a private namespace, addressed 198.18.5.1/24; 198.18.5.2 is routed into it.</summary>
public sealed class TunDeviceTests : IDisposable
{
    private readonly NetLab _lab = NetLab.Create();
    private readonly string _ns;
    private readonly string _name;

    public TunDeviceTests()
    {
        _ns = _lab.Build(lab => lab.AddNamespace("t"));
        _name = _lab.Name("tun");
    }

    public void Dispose() => _lab.Dispose();

    private TunDevice CreateUp()
    {
        TunDevice tun = NetNamespace.Run(_ns, () => TunDevice.Create(_name));
        _lab.AddAddress(_ns, tun.Name, "198.18.5.1/24");
        _lab.Run(_ns, "ip", "link", "set", tun.Name, "up").ThrowIfFailed();
        return tun;
    }

    [Fact]
    public void PingRoutedIntoTun_IsReadAsEchoRequest_AndAWrittenReplyCompletesThePing()
    {
        NetLab.RequireTools("ping");
        using TunDevice tun = CreateUp();
        Assert.Equal(_name, tun.Name);

        int replies = -1;
        var pinger = new Thread(() => replies = Traffic.Ping(_lab, _ns, "198.18.5.2", 1, waitSeconds: 3)) { IsBackground = true };
        pinger.Start();

        var buffer = new byte[65535];
        byte[]? request = null;
        var clock = Stopwatch.StartNew();
        while (request is null && clock.ElapsedMilliseconds < 3000)
        {
            if (tun.Read(buffer, out int length, 500) != WaitResult.Readable) continue;
            byte[] packet = buffer[..length];
            if (packet[0] >> 4 == 4 && packet[9] == 1 && packet[(packet[0] & 0xf) * 4] == 8) request = packet; // skip IPv6 noise
        }

        Assert.NotNull(request);
        Assert.Equal(new byte[] { 198, 18, 5, 1 }, request[12..16]);
        Assert.Equal(new byte[] { 198, 18, 5, 2 }, request[16..20]);
        tun.Write(EchoReplyFor(request));
        Assert.True(pinger.Join(5000), "ping did not finish");
        Assert.Equal(1, replies);
    }

    [Fact]
    public void Write_WhileInterfaceIsDown_FailsWithEio()
    {
        using TunDevice tun = NetNamespace.Run(_ns, () => TunDevice.Create(_name));
        byte[] packet = EchoReplyFor(EchoRequest());
        Assert.Equal(5, tun.TryWrite(packet)); // EIO
        var e = Assert.Throws<NativeException>(() => tun.Write(packet));
        Assert.Equal(5, e.Errno);
    }

    [Fact]
    public void Read_WithNothingRouted_TimesOut()
    {
        using TunDevice tun = CreateUp();
        var clock = Stopwatch.StartNew();
        WaitResult result;
        var buffer = new byte[2048];
        // IPv6 housekeeping may arrive first; nothing routes IPv4 here.
        while ((result = tun.Read(buffer, out int length, 300)) == WaitResult.Readable)
            Assert.False(length > 0 && buffer[0] >> 4 == 4, "an IPv4 packet arrived although nothing routes IPv4 into the device");
        Assert.Equal(WaitResult.Timeout, result);
        Assert.True(clock.ElapsedMilliseconds >= 250);
    }

    [Fact]
    public void RequestStop_WakesABlockedReadWithinOneSecond()
    {
        using TunDevice tun = NetNamespace.Run(_ns, () => TunDevice.Create(_name)); // down: nothing will ever arrive
        WaitResult result = WaitResult.Readable;
        var reader = new Thread(() => result = tun.Read(new byte[2048], out _)) { IsBackground = true };
        reader.Start();
        Thread.Sleep(200);
        Assert.True(reader.IsAlive);
        var clock = Stopwatch.StartNew();
        tun.RequestStop();
        Assert.True(reader.Join(1000), "Read did not return within 1 s of RequestStop");
        Assert.True(clock.ElapsedMilliseconds < 1000);
        Assert.Equal(WaitResult.Stopped, result);
    }

    [Fact]
    public void MultiQueue_SameNameCanBeOpenedTwice()
    {
        NetNamespace.Run(_ns, () =>
        {
            using TunDevice first = TunDevice.Create(_name, multiQueue: true);
            using TunDevice second = TunDevice.Create(_name, multiQueue: true);
            Assert.Equal(first.Name, second.Name);
        });
    }

    [Fact]
    public void SingleQueue_SecondOpenOfSameName_FailsWithEbusy()
    {
        NetNamespace.Run(_ns, () =>
        {
            using TunDevice first = TunDevice.Create(_name);
            var e = Assert.Throws<NativeException>(() => TunDevice.Create(_name));
            Assert.Equal(16, e.Errno); // EBUSY
            Assert.Contains($"TUNSETIFF {_name}", e.Message);
        });
    }

    [Fact]
    public void Dispose_RemovesTheInterface()
    {
        NetNamespace.Run(_ns, () =>
        {
            TunDevice tun = TunDevice.Create(_name);
            Assert.NotEqual(0u, NetDevice.GetIndex(_name));
            tun.Dispose();
            Assert.Equal(0u, NetDevice.GetIndex(_name));
        });
    }

    [Fact]
    public void Create_NameLongerThan15Characters_IsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => TunDevice.Create("abcdefghijklmnop"));
        Assert.Contains("longer than 15", e.Message);
    }

    /// <summary>A minimal IPv4 echo request 198.18.5.1 → 198.18.5.2.</summary>
    private static byte[] EchoRequest()
    {
        var p = new byte[28];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), 28);
        p[8] = 64;
        p[9] = 1;
        new byte[] { 198, 18, 5, 1 }.CopyTo(p, 12);
        new byte[] { 198, 18, 5, 2 }.CopyTo(p, 16);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), InternetChecksum(p.AsSpan(0, 20)));
        p[20] = 8;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), InternetChecksum(p.AsSpan(20)));
        return p;
    }

    /// <summary>Swaps addresses, turns type 8 into 0 and recomputes both checksums.</summary>
    private static byte[] EchoReplyFor(byte[] request)
    {
        byte[] reply = (byte[])request.Clone();
        int ihl = (reply[0] & 0xf) * 4;
        request.AsSpan(12, 4).CopyTo(reply.AsSpan(16));
        request.AsSpan(16, 4).CopyTo(reply.AsSpan(12));
        reply[10] = reply[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(10), InternetChecksum(reply.AsSpan(0, ihl)));
        reply[ihl] = 0;
        reply[ihl + 2] = reply[ihl + 3] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(ihl + 2), InternetChecksum(reply.AsSpan(ihl)));
        return reply;
    }

    private static ushort InternetChecksum(ReadOnlySpan<byte> data)
    {
        uint sum = 0;
        for (int i = 0; i + 1 < data.Length; i += 2) sum += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        if (data.Length % 2 == 1) sum += (uint)data[^1] << 8;
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
        return (ushort)~sum;
    }
}
