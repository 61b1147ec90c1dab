using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Firewall.Native.Pcap;

/// <summary>
/// Per-handle state that libpcap hands back to <see cref="OnFrame"/> as the opaque user pointer.
/// Lives in native memory so no GCHandle or pinning is needed; the managed handler is found by Slot.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct PcapDispatchContext
{
    public nint Pcap;
    public int Slot;
    /// <summary>1000 for microsecond handles, 1 for nanosecond ones.</summary>
    public int SubSecondToNanoseconds;
    public int Count;
    public int Faulted;
}

/// <summary>
/// Routes pcap_dispatch callbacks to managed handlers without allocating: a fixed table of handlers indexed by the
/// slot stored in each handle's <see cref="PcapDispatchContext"/>. The table never grows, so a read never races a resize.
/// </summary>
internal static unsafe class PcapCallbackTable
{
    private const int Capacity = 4096;

    private static readonly IPcapFrameHandler?[] s_handlers = new IPcapFrameHandler?[Capacity];
    private static readonly Exception?[] s_errors = new Exception?[Capacity];
    private static readonly bool[] s_used = new bool[Capacity];
    private static readonly Lock s_lock = new();
    private static int s_next;

    /// <summary>Taken once per handle (open), not per frame.</summary>
    public static int Rent()
    {
        lock (s_lock)
        {
            for (int n = 0; n < Capacity; n++)
            {
                int slot = (s_next + n) % Capacity;
                if (!s_used[slot])
                {
                    s_used[slot] = true;
                    s_next = slot + 1;
                    return slot;
                }
            }
        }
        throw new InvalidOperationException($"more than {Capacity} pcap handles are open");
    }

    public static void Return(int slot)
    {
        lock (s_lock)
        {
            s_handlers[slot] = null;
            s_errors[slot] = null;
            s_used[slot] = false;
        }
    }

    public static void SetHandler(int slot, IPcapFrameHandler? handler) => s_handlers[slot] = handler;

    /// <summary>Returns and clears the exception a handler threw during the last dispatch on this slot.</summary>
    public static Exception? TakeError(int slot)
    {
        Exception? error = s_errors[slot];
        s_errors[slot] = null;
        return error;
    }

    public static delegate* unmanaged<byte*, Interop.Pcap.PacketHeader*, byte*, void> Callback => &OnFrame;

    [UnmanagedCallersOnly]
    private static void OnFrame(byte* user, Interop.Pcap.PacketHeader* header, byte* data)
    {
        var context = (PcapDispatchContext*)user;
        if (context->Faulted != 0) return;
        try
        {
            var frame = new PcapFrame(
                new ReadOnlySpan<byte>(data, (int)header->CapturedLength),
                header->Seconds * 1_000_000_000L + header->SubSeconds * context->SubSecondToNanoseconds,
                (int)header->Length);
            s_handlers[context->Slot]!.OnFrame(in frame);
            context->Count++;
        }
        catch (Exception e)
        {
            // Letting it escape an UnmanagedCallersOnly method would kill the process.
            RecordFault(context, e);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RecordFault(PcapDispatchContext* context, Exception e)
    {
        s_errors[context->Slot] = e;
        context->Faulted = 1;
        Interop.Pcap.BreakLoop(context->Pcap);
    }
}
