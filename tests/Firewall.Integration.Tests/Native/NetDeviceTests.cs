using Firewall.Integration.Tests.Lab;
using Firewall.Native;
using Firewall.Native.Interfaces;
using Firewall.Native.Namespaces;

namespace Firewall.Integration.Tests.Native;

/// <summary>Interface index/name/state lookups, answered for the calling thread's namespace.</summary>
public sealed class NetDeviceTests : IDisposable
{
    private readonly NetLab _lab = NetLab.Create();
    private readonly string _ns;
    private readonly string _va;
    private readonly string _vb;

    public NetDeviceTests() => (_ns, _va, _vb) = _lab.Build(lab =>
    {
        string ns = lab.AddNamespace("i");
        var (a, b) = lab.AddVethPair(ns, "a", ns, "b", up: false); // both ends down
        return (ns, a, b);
    });

    public void Dispose() => _lab.Dispose();

    private void SetUp(string link) => _lab.Run(_ns, "ip", "link", "set", link, "up").ThrowIfFailed();

    [Fact]
    public void GetIndexAndGetName_RoundTrip()
    {
        NetNamespace.Run(_ns, () =>
        {
            uint index = NetDevice.GetIndex(_va);
            Assert.NotEqual(0u, index);
            Assert.Equal(_va, NetDevice.GetName(index));
            Assert.Equal(1u, NetDevice.GetIndex("lo"));
        });
    }

    [Fact]
    public void UnknownInterface_HasIndexZeroAndNoName()
    {
        NetNamespace.Run(_ns, () =>
        {
            Assert.Equal(0u, NetDevice.GetIndex(_lab.Name("zz")));
            Assert.Null(NetDevice.GetName(999_999));
            Assert.Equal(LinkState.Missing, NetDevice.GetState(_lab.Name("zz")));
        });
    }

    [Fact]
    public void GetState_FollowsAdminAndCarrierState()
    {
        NetNamespace.Run(_ns, () => Assert.Equal(LinkState.Down, NetDevice.GetState(_va)));
        SetUp(_va);
        NetNamespace.Run(_ns, () => Assert.Equal(LinkState.NoCarrier, NetDevice.GetState(_va))); // peer still down
        SetUp(_vb);
        NetNamespace.Run(_ns, () => Assert.True(NetDevice.WaitUntilRunning(_va, TimeSpan.FromSeconds(3))));
        NetNamespace.Run(_ns, () => Assert.Equal(LinkState.Running, NetDevice.GetState(_va)));
    }

    [Fact]
    public void WaitUntilRunning_ReturnsWhenThePeerComesUp()
    {
        SetUp(_va);
        var raiser = new Thread(() =>
        {
            Thread.Sleep(300);
            SetUp(_vb);
        }) { IsBackground = true };
        raiser.Start();
        bool running = NetNamespace.Run(_ns, () => NetDevice.WaitUntilRunning(_va, TimeSpan.FromSeconds(5)));
        raiser.Join();
        Assert.True(running);
    }

    [Fact]
    public void WaitUntilRunning_GivesUpAfterTimeoutOrStop()
    {
        NetNamespace.Run(_ns, () =>
        {
            Assert.False(NetDevice.WaitUntilRunning(_va, TimeSpan.FromMilliseconds(250)));
            using var stop = new StopEvent();
            stop.Set();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.False(NetDevice.WaitUntilRunning(_va, TimeSpan.FromSeconds(30), stop));
            Assert.True(clock.ElapsedMilliseconds < 1000);
        });
    }
}
