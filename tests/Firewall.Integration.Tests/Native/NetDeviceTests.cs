using Firewall.Integration.Tests.Native.Lab;
using Firewall.Native;
using Firewall.Native.Interfaces;
using Firewall.Native.Namespaces;

namespace Firewall.Integration.Tests.Native;

/// <summary>Interface index/name/state lookups, answered for the calling thread's namespace.</summary>
public sealed class NetDeviceTests : IDisposable
{
    private readonly NetnsLab _lab = new();
    private readonly string _ns;
    private readonly string _va;
    private readonly string _vb;

    public NetDeviceTests()
    {
        _ns = _lab.Name("i");
        _va = _lab.Name("a");
        _vb = _lab.Name("b");
        _lab.Setup(() =>
        {
            _lab.AddNamespace("i");
            _lab.Ip($"link add {_va} netns {_ns} type veth peer name {_vb} netns {_ns}"); // both ends down
        });
    }

    public void Dispose() => _lab.Dispose();

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
        _lab.Ip($"-n {_ns} link set {_va} up");
        NetNamespace.Run(_ns, () => Assert.Equal(LinkState.NoCarrier, NetDevice.GetState(_va))); // peer still down
        _lab.Ip($"-n {_ns} link set {_vb} up");
        NetNamespace.Run(_ns, () => Assert.True(NetDevice.WaitUntilRunning(_va, TimeSpan.FromSeconds(3))));
        NetNamespace.Run(_ns, () => Assert.Equal(LinkState.Running, NetDevice.GetState(_va)));
    }

    [Fact]
    public void WaitUntilRunning_ReturnsWhenThePeerComesUp()
    {
        _lab.Ip($"-n {_ns} link set {_va} up");
        var raiser = new Thread(() =>
        {
            Thread.Sleep(300);
            _lab.Ip($"-n {_ns} link set {_vb} up");
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
