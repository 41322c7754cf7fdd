using System.Linq.Expressions;

namespace FineTuneAgent.Actors;

/// <summary>
/// An immutable recipe for an actor, as Akka's Props: how to construct an instance (again on
/// every restart) and how that actor supervises its children.
/// </summary>
public sealed class Props
{
    private readonly Func<ActorBase> _factory;

    private Props(Type type, Func<ActorBase> factory, SupervisorStrategy? supervisorStrategy)
    {
        Type = type;
        _factory = factory;
        SupervisorStrategy = supervisorStrategy;
    }

    /// <summary>The actor's type.</summary>
    public Type Type { get; }

    /// <summary>The strategy the actor applies to its children; null for the actor's own choice.</summary>
    public SupervisorStrategy? SupervisorStrategy { get; }

    public static Props Create<TActor>() where TActor : ActorBase, new() =>
        new(typeof(TActor), static () => new TActor(), null);

    /// <summary>
    /// From a constructor call, <c>Props.Create(() =&gt; new Worker(settings))</c>. The expression
    /// runs again on every restart, with the values it captured.
    /// </summary>
    public static Props Create<TActor>(Expression<Func<TActor>> factory) where TActor : ActorBase
    {
        ArgumentNullException.ThrowIfNull(factory);
        var compiled = factory.Compile();
        return new(typeof(TActor), () => compiled(), null);
    }

    /// <summary>From a type and constructor arguments.</summary>
    public static Props Create(Type type, params object?[] args)
    {
        ArgumentNullException.ThrowIfNull(type);
        if (!typeof(ActorBase).IsAssignableFrom(type))
        {
            throw new ArgumentException($"{type} is not an actor (derive from ReceiveActor or UntypedActor).", nameof(type));
        }
        return new(type, () => (ActorBase)Activator.CreateInstance(type, args)!, null);
    }

    public Props WithSupervisorStrategy(SupervisorStrategy strategy)
    {
        ArgumentNullException.ThrowIfNull(strategy);
        return new(Type, _factory, strategy);
    }

    internal ActorBase NewActor() => _factory();

    public override string ToString() => $"Props({Type.Name})";
}
